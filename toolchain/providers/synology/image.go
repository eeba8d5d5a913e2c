package synology

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path"

	"github.com/pulumi/pulumi-go-provider/infer"
)

// Image is a VMM image made from an ISO at a URL (the Talos ISO of the Image Factory): the ISO
// is downloaded by the provider into a temporary file and checked against the factory's checksum,
// uploaded into a DSM folder with File Station (with its length), then registered with
// SYNO.Virtualization.API.Guest.Image create. An image of the same name already in VMM (left by
// an `up` whose task was lost) is adopted when it is an ISO, refused otherwise. Any change of the
// inputs makes a new image.
type Image struct{}

type ImageArgs struct {
	Name        string `pulumi:"name" provider:"replaceOnChanges"`
	URL         string `pulumi:"url" provider:"replaceOnChanges"`
	Folder      string `pulumi:"folder" provider:"replaceOnChanges"`
	StorageName string `pulumi:"storageName" provider:"replaceOnChanges"`
}

func (a *ImageArgs) Annotate(an infer.Annotator) {
	an.Describe(&a.Name, "Image name in Virtual Machine Manager (also the uploaded file's name, with .iso).")
	an.Describe(&a.URL, "Where the ISO is downloaded from; <url>.sha256, when the server offers it, is its checksum.")
	an.Describe(&a.Folder, "DSM folder the ISO is uploaded to, e.g. /vmm-images (its shared folder must exist).")
	an.Describe(&a.StorageName, "VMM storage the image is registered on.")
}

type ImageState struct {
	ImageArgs
	ImageID  string `pulumi:"imageId"`
	FilePath string `pulumi:"filePath"`
	// SHA256 of the ISO uploaded (empty for an adopted image, which was not downloaded).
	SHA256 string `pulumi:"sha256"`
}

func (i *Image) Annotate(a infer.Annotator) {
	a.Describe(&i, "An ISO image in Synology Virtual Machine Manager, downloaded from a URL.")
}

type imageInfo struct {
	ID     string `json:"image_id"`
	Name   string `json:"image_name"`
	Type   string `json:"type"`
	Status string `json:"status"`
}

func listImages(ctx context.Context, c *Client) ([]imageInfo, error) {
	var list struct {
		Images []imageInfo `json:"images"`
	}
	err := c.Call(ctx, "SYNO.Virtualization.API.Guest.Image", "list", nil, &list)
	return list.Images, err
}

func imageNamed(ctx context.Context, c *Client, name string) (*imageInfo, error) {
	images, err := listImages(ctx, c)
	if err != nil {
		return nil, err
	}
	for i := range images {
		if images[i].Name == name {
			return &images[i], nil
		}
	}
	return nil, nil
}

// adoptable says why an image found by name cannot be taken over, or "" when it can.
func adoptable(img *imageInfo) string {
	if img.Type != "" && img.Type != "iso" {
		return fmt.Sprintf("it is of type %q, not an ISO", img.Type)
	}
	return ""
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
	fail := func(err error) (infer.CreateResponse[ImageState], error) {
		return infer.CreateResponse[ImageState]{}, fmt.Errorf("image %s: %w", in.Name, err)
	}
	// Log in and look for the name first: a bad password is reported before a download, and an
	// image a lost task left behind is taken over instead of failing on a name conflict.
	existing, err := imageNamed(ctx, c, in.Name)
	if err != nil {
		return fail(err)
	}
	if existing != nil {
		if why := adoptable(existing); why != "" {
			return fail(fmt.Errorf("VMM already has an image named %s, and %s: remove it in Virtual Machine Manager > Image", in.Name, why))
		}
		state.ImageID = existing.ID
		return infer.CreateResponse[ImageState]{ID: in.Name, Output: state}, nil
	}
	file, size, sum, err := download(ctx, c.HTTP(), in.URL)
	if err != nil {
		return fail(err)
	}
	defer os.Remove(file.Name())
	defer file.Close()
	state.SHA256 = sum
	if err := c.Upload(ctx, in.Folder, in.Name+".iso", file, size); err != nil {
		_ = deleteFile(ctx, c, state.FilePath)
		return infer.CreateResponse[ImageState]{}, fmt.Errorf("upload of the ISO to %s: %w", in.Folder, err)
	}
	id, err := registerImage(ctx, c, in, state.FilePath)
	if err != nil {
		// Nothing half-made: a half-registered image and the uploaded file go again.
		if img, _ := imageNamed(ctx, c, in.Name); img != nil {
			_ = c.Call(ctx, "SYNO.Virtualization.API.Guest.Image", "delete", url.Values{"image_id": {img.ID}}, nil)
		}
		_ = deleteFile(ctx, c, state.FilePath)
		return fail(err)
	}
	state.ImageID = id
	return infer.CreateResponse[ImageState]{ID: in.Name, Output: state}, nil
}

// registerImage makes the VMM image from the uploaded file and returns its id, from the task or,
// when the task told nothing, by looking the image up by name.
func registerImage(ctx context.Context, c *Client, in ImageArgs, file string) (string, error) {
	out, err := c.startTask(ctx, "SYNO.Virtualization.API.Guest.Image", "create", url.Values{
		"image_name": {in.Name}, "ds_file_path": {file}, "type": {"iso"},
		"storage_names": {jsonParam([]string{in.StorageName})},
	}, "image_id")
	if err != nil {
		return "", err
	}
	if out.ID != "" {
		return out.ID, nil
	}
	if out.Failed {
		return "", fmt.Errorf("%s", out.Problem)
	}
	img, err := imageNamed(ctx, c, in.Name)
	if err != nil {
		return "", fmt.Errorf("%s, and the image list failed: %w", out.Problem, err)
	}
	if img == nil {
		return "", fmt.Errorf("%s, and VMM has no image named %s", out.Problem, in.Name)
	}
	return img.ID, nil
}

// Delete removes the image from VMM, then the uploaded ISO. An image already gone is fine.
func (*Image) Delete(ctx context.Context, req infer.DeleteRequest[ImageState]) (infer.DeleteResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, operationTimeout)
	defer cancel()
	c := infer.GetConfig[Config](ctx).client
	images, err := listImages(ctx, c)
	if err != nil {
		return infer.DeleteResponse{}, err
	}
	for _, img := range images {
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
