package synology

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"time"
)

// A VMM creation (guest, image) answers a task_id and finishes in the background. The provider
// sends auto_clean_task=false, so DSM keeps the task until it is read and cleared: a task that
// DSM cleans up on its own could vanish between two polls, leaving an object that exists on DSM
// but not in the state. Even so a task can be lost (DSM restarted, error 1000) or run too long;
// the caller then finds the object by its name, which is unique in VMM (error 403 otherwise).

// taskOutcome is what a finished task says about the object it made.
type taskOutcome struct {
	// ID of the object made (guest_id / image_id), empty when the task did not say.
	ID string
	// Why the task told nothing useful: lost, timed out, failed (empty when ID is set).
	Problem string
	// Failed is true when the task itself reported a failure (not merely lost).
	Failed bool
}

// taskWait bounds how long a creation task is polled before the object is looked up by name.
var taskWait = 10 * time.Minute

// startTask runs api.method, a creation that answers {"task_id": …}, and follows the task to its
// end. Errors of the call itself are returned (nothing was started); what happens to the task
// afterwards is reported in the outcome, never as an error, so the caller can look the object up.
func (c *Client) startTask(ctx context.Context, api, method string, params url.Values, idField string) (taskOutcome, error) {
	params.Set("auto_clean_task", "false")
	var started struct {
		TaskID string `json:"task_id"`
	}
	if err := c.Call(ctx, api, method, params, &started); err != nil {
		return taskOutcome{}, err
	}
	if started.TaskID == "" {
		return taskOutcome{Problem: fmt.Sprintf("DSM %s %s answered no task_id", api, method)}, nil
	}
	out := c.followTask(ctx, started.TaskID, idField)
	return out, nil
}

func (c *Client) followTask(ctx context.Context, taskID, idField string) taskOutcome {
	wait, cancel := context.WithTimeout(ctx, taskWait)
	defer cancel()
	for {
		var task struct {
			Finish   bool                       `json:"finish"`
			TaskInfo map[string]json.RawMessage `json:"task_info"`
		}
		err := c.Call(wait, "SYNO.Virtualization.API.Task.Info", "get", url.Values{"task_id": {taskID}}, &task)
		if IsCode(err, 1000) {
			return taskOutcome{Problem: fmt.Sprintf("DSM lost task %s (error 1000, cannot find task_id)", taskID)}
		}
		if err != nil {
			return taskOutcome{Problem: fmt.Sprintf("task %s: %v", taskID, err)}
		}
		if task.Finish {
			c.clearTask(ctx, taskID)
			return outcomeOf(taskID, task.TaskInfo, idField)
		}
		select {
		case <-wait.Done():
			return taskOutcome{Problem: fmt.Sprintf("task %s did not finish within %s", taskID, taskWait)}
		case <-time.After(pollInterval):
		}
	}
}

// outcomeOf reads a finished task's task_info: the id field, and a status that says it failed.
func outcomeOf(taskID string, info map[string]json.RawMessage, idField string) taskOutcome {
	text := func(key string) string {
		var s string
		if raw, ok := info[key]; ok && json.Unmarshal(raw, &s) != nil {
			s = string(raw)
		}
		return s
	}
	if status := text("status"); status == "error" || status == "failed" || status == "failure" {
		return taskOutcome{Problem: fmt.Sprintf("task %s failed (status %q)", taskID, status), Failed: true}
	}
	if id := text(idField); id != "" {
		return taskOutcome{ID: id}
	}
	return taskOutcome{Problem: fmt.Sprintf("task %s finished without %s", taskID, idField)}
}

// clearTask removes a finished task from DSM's list (auto_clean_task=false leaves it there).
// A failure is harmless: the task stays listed, nothing else depends on it.
func (c *Client) clearTask(ctx context.Context, taskID string) {
	_ = c.Call(ctx, "SYNO.Virtualization.API.Task.Info", "clear", url.Values{"task_id": {taskID}}, nil)
}
