package synology

import "strings"

// Error meanings, by the code DSM returns in {"success":false,"error":{"code":N}}. The tables
// follow Synology's published guides: the codes common to every API (DSM Login Web API Guide,
// "Common error codes"), SYNO.API.Auth's own, File Station's, and the Virtual Machine Manager
// API Guide's. An API's own table is consulted first because codes overlap between APIs
// (403 is "2-factor code required" for Auth but "name conflict" for VMM).
var commonErrors = map[int]string{
	100: "unknown error",
	101: "no parameter of API, method or version",
	102: "the requested API does not exist",
	103: "the requested method does not exist",
	104: "the requested version does not support the functionality",
	105: "the logged in session does not have permission",
	106: "session timeout",
	107: "session interrupted by duplicate login",
	108: "failed to upload the file",
	109: "the network connection is unstable or the system is busy",
	110: "the network connection is unstable or the system is busy",
	111: "the network connection is unstable or the system is busy",
	117: "the network connection is unstable or the system is busy",
	118: "the network connection is unstable or the system is busy",
	119: "SID not found",
	120: "invalid parameter",
	150: "the request source IP does not match the login IP",
}

var authErrors = map[int]string{
	400: "no such account or incorrect password",
	401: "disabled account",
	402: "denied permission",
	403: "2-factor authentication code required",
	404: "failed to authenticate 2-factor authentication code",
	406: "enforce to authenticate with 2-factor authentication code",
	407: "blocked IP source",
	408: "expired password cannot change",
	409: "expired password",
	410: "password must be changed",
}

var fileStationErrors = map[int]string{
	400:  "invalid parameter of file operation",
	401:  "unknown error of file operation",
	402:  "system is too busy",
	403:  "invalid user does this file operation",
	407:  "operation not permitted",
	408:  "no such file or directory",
	411:  "read-only file system",
	414:  "file already exists",
	415:  "disk quota exceeded",
	416:  "no space left on device",
	417:  "input/output error",
	418:  "illegal name or path",
	421:  "device or resource busy",
	1800: "the request has no Content-Length, or the uploaded size does not match it",
	1801: "no data received from the client for too long",
	1802: "no filename in the last part of the file content",
	1803: "upload connection cancelled",
	1805: "cannot overwrite or skip the existing file",
}

var vmmErrors = map[int]string{
	401:  "bad parameter",
	402:  "operation failed",
	403:  "name conflict",
	404:  "the number of iSCSI LUNs has reached the system limit",
	500:  "the cluster is frozen: more than half of the hosts are offline",
	501:  "the cluster is in incompatible mode: upgrade to a compatible DSM version",
	600:  "the cluster is not ready",
	601:  "the host is offline",
	700:  "the storage is invalid",
	900:  "failed to set a host to a virtual machine",
	901:  "the virtual machine does not have a host",
	902:  "failed to power on: insufficient CPU threads",
	903:  "failed to power on: insufficient memory",
	904:  "the virtual machine is already online",
	905:  "MAC conflict",
	906:  "failed to create the virtual machine: the selected image is not found",
	907:  "the virtual machine is offline",
	908:  "failed to power on: insufficient CPU threads for reservation on the host",
	909:  "failed to power on: no corresponding networking on the host",
	910:  "only the VirtIO hard disk controller can be used to boot the VM remotely",
	911:  "virtual machines with UEFI enabled cannot be powered on remotely",
	1000: "cannot find task_id",
	1001: "needs Virtual Machine Manager Pro",
	1400: "the image was created only partially",
	1600: "the VM was edited, but reserving memory or CPU on HA hosts failed",
}

// What to do about the errors a user can fix, by API family and code.
var hints = map[string]map[int]string{
	"auth": {
		400: "check talos-cluster:synology.user and the encrypted talos-cluster:synologyPassword",
		403: "2-step verification is on for this account: give the stack a DSM account without it",
		406: "2-step verification is enforced for this account: give the stack a DSM account exempt from it",
		407: "DSM blocked this machine's address after failed logins: unblock it in Control Panel > Security > Protection",
	},
	"common": {105: "the account needs to be in the administrators group (Virtual Machine Manager and File Station)"},
	"vmm": {
		403: "a guest or image with this name already exists in Virtual Machine Manager: remove it there, or rename the node",
		905: "another guest already uses this MAC address: change the node's vm.mac",
		903: "the NAS has not enough free memory for this guest",
	},
	"filestation": {
		408: "the upload folder (talos-cluster:synology.imageFolder) must be an existing shared folder",
		416: "the volume of talos-cluster:synology.imageFolder is full",
	},
}

func family(api string) string {
	switch {
	case api == "SYNO.API.Auth":
		return "auth"
	case strings.HasPrefix(api, "SYNO.FileStation."):
		return "filestation"
	case strings.HasPrefix(api, "SYNO.Virtualization."):
		return "vmm"
	}
	return "common"
}

// meaning is the documented meaning of code for api, and a hint when there is one.
func meaning(api string, code int) (string, string) {
	fam := family(api)
	own := map[string]map[int]string{"auth": authErrors, "filestation": fileStationErrors, "vmm": vmmErrors}[fam]
	if m, ok := own[code]; ok {
		return m, hints[fam][code]
	}
	if m, ok := commonErrors[code]; ok {
		return m, hints["common"][code]
	}
	return "undocumented error code", ""
}
