// Pulumi mocks that record every resource and invoke, so tests assert exact inputs.
// Call installMocks() before importing the code under test.
import * as pulumi from "@pulumi/pulumi";

export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
  readonly urn: string;
}

export interface RecordedInvoke {
  readonly token: string;
  readonly inputs: Record<string, unknown>;
}

export interface Recorder {
  readonly resources: RecordedResource[];
  readonly invokes: RecordedInvoke[];
  ofType(type: string): RecordedResource[];
  reset(): void;
}

/** Fake provider outputs for the types whose outputs the code reads. */
function outputsFor(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  if (type === "talos:machine/secrets:Secrets") {
    return {
      ...inputs,
      machineSecrets: { cluster: { id: `${name}-cluster-id`, secret: `${name}-cluster-secret` } },
      clientConfiguration: { caCertificate: "ca", clientCertificate: "crt", clientKey: `${name}-client-key` },
    };
  }
  return inputs;
}

export function installMocks(project = "talos-cluster", stack = "unit"): Recorder {
  const recorder: Recorder = {
    resources: [],
    invokes: [],
    ofType: (type) => recorder.resources.filter((r) => r.type === type),
    reset: () => {
      recorder.resources.length = 0;
      recorder.invokes.length = 0;
    },
  };
  pulumi.runtime.setMocks(
    {
      newResource(args) {
        const urn = `urn:pulumi:${stack}::${project}::${args.type}::${args.name}`;
        recorder.resources.push({ type: args.type, name: args.name, inputs: args.inputs, urn });
        return { id: `${args.name}-id`, state: outputsFor(args.type, args.name, args.inputs) };
      },
      call(args) {
        recorder.invokes.push({ token: args.token, inputs: args.inputs });
        if (args.token === "talos:machine/getConfiguration:getConfiguration") {
          return { ...args.inputs, machineConfiguration: `rendered ${String(args.inputs.machineType)} config` };
        }
        return args.inputs;
      },
    },
    project,
    stack,
    false,
  );
  return recorder;
}

/** The value of an output, resolved under mocks. */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((v) => resolve(v)));
}
