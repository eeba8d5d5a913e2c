package synology

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"path"

	"github.com/pulumi/pulumi-go-provider/infer"
)

// Image is a VMM image made from an ISO at a URL (the Talos ISO of the Image Factory): the ISO
// is downloaded by the provider, uploaded into a DSM folder with File Station, then registered
// with SYNO.Virtualization.API.Guest.Image create. Any change makes a new image.
type Image struct{}

type ImageArgs struct {
	Name        string `pulumi:"name" provider:"replaceOnChanges"`
	URL         string `pulumi:"url" provider:"replaceOnChanges"`
	Folder      string `pulumi:"folder" provider:"replaceOnChanges"`
	StorageName string `pulumi:"storageName" provider:"replaceOnChanges"`
}

func (a *ImageArgs) Annotate(an infer.Annotator) {
	an.Describe(&a.Name, "Image name in Virtual Machine Manager (also the uploaded file's name, with .iso).")
	an.Describe(&a.URL, "Where the ISO is downloaded from.")
	an.Describe(&a.Folder, "DSM folder the ISO is uploaded to, e.g. /vmm-images (its shared folder must exist).")
	an.Describe(&a.StorageName, "VMM storage the image is registered on.")
}

type ImageState struct {
	ImageArgs
	ImageID  string `pulumi:"imageId"`
	FilePath string `pulumi:"filePath"`
}

func (i *Image) Annotate(a infer.Annotator) {
	a.Describe(&i, "An ISO image in Synology Virtual Machine Manager, downloaded from a URL.")
}

func (*Image) Create(ctx context.Context, req infer.CreateRequest[ImageArgs]) (infer.CreateResponse[ImageState], error) {
	in := req.Inputs
	state := ImageState{ImageArgs: in, FilePath: path.Join(in.Folder, in.Name+".iso")}
	if req.DryRun {
		return infer.CreateResponse[ImageState]{ID: in.Name, Output: state}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, operationTimeout)
	defer cancel()
	c := infer.GetConfig[Config](ctx).client
	if err := c.Login(ctx); err != nil {
		return infer.CreateResponse[ImageState]{}, fmt.Errorf("image %s: %w", in.Name, err)
	}
	get, err := http.NewRequestWithContext(ctx, http.MethodGet, in.URL, nil)
	if err != nil {
		return infer.CreateResponse[ImageState]{}, err
	}
	resp, err := c.HTTP().Do(get)
	if err != nil {
		return infer.CreateResponse[ImageState]{}, fmt.Errorf("download %s: %w", in.URL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return infer.CreateResponse[ImageState]{}, fmt.Errorf("download %s: HTTP %d", in.URL, resp.StatusCode)
	}
	if err := c.Upload(ctx, in.Folder, in.Name+".iso", resp.Body); err != nil {
		return infer.CreateResponse[ImageState]{}, fmt.Errorf("upload of the ISO to %s: %w", in.Folder, err)
	}
	var created struct {
		TaskID string `json:"task_id"`
	}
	err = c.Call(ctx, "SYNO.Virtualization.API.Guest.Image", "create", url.Values{
		"image_name": {in.Name}, "ds_file_path": {state.FilePath}, "type": {"iso"},
		"storage_names": {jsonParam([]string{in.StorageName})}, "auto_clean_task": {"true"},
	}, &created)
	var info struct {
		ImageID string `json:"image_id"`
	}
	if err == nil {
		err = c.waitTask(ctx, created.TaskID, &info)
	}
	if err == nil && info.ImageID == "" {
		err = fmt.Errorf("DSM image task %s finished without an image_id", created.TaskID)
	}
	if err != nil {
		// Nothing half-made: the uploaded file goes again when the image could not be made.
		_ = deleteFile(ctx, c, state.FilePath)
		return infer.CreateResponse[ImageState]{}, fmt.Errorf("image %s: %w", in.Name, err)
	}
	state.ImageID = info.ImageID
	return infer.CreateResponse[ImageState]{ID: in.Name, Output: state}, nil
}

// Delete removes the image from VMM, then the uploaded ISO. An image already gone is fine.
func (*Image) Delete(ctx context.Context, req infer.DeleteRequest[ImageState]) (infer.DeleteResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, operationTimeout)
	defer cancel()
	c := infer.GetConfig[Config](ctx).client
	var list struct {
		Images []struct {
			ID   string `json:"image_id"`
			Name string `json:"image_name"`
		} `json:"images"`
	}
	if err := c.Call(ctx, "SYNO.Virtualization.API.Guest.Image", "list", nil, &list); err != nil {
		return infer.DeleteResponse{}, err
	}
	for _, img := range list.Images {
		if img.ID == req.State.ImageID {
			if err := c.Call(ctx, "SYNO.Virtualization.API.Guest.Image", "delete", url.Values{"image_id": {img.ID}}, nil); err != nil {
				return infer.DeleteResponse{}, fmt.Errorf("image %s: %w", req.State.Name, err)
			}
		}
	}
	return infer.DeleteResponse{}, deleteFile(ctx, c, req.State.FilePath)
}

func deleteFile(ctx context.Context, c *Client, file string) error {
	err := c.Call(ctx, "SYNO.FileStation.Delete", "delete", url.Values{"path": {jsonParam([]string{file})}}, nil)
	if IsCode(err, 408) { // no such file or directory: already gone
		return nil
	}
	return err
}

var (
	_ infer.CustomDelete[ImageState] = (*Image)(nil)
)
