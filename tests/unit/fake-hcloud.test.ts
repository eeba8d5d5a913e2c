// The fake Hetzner Cloud API (tests/support/fake-hcloud.ts) refuses what Hetzner's API reference
// says the real one refuses, with its status codes and error codes, and records every call.
import assert from "node:assert/strict";
import { FakeHcloud } from "../support/fake-hcloud";

const TOKEN = "t".repeat(64);
const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJy0X0cLQmcnZNpwrDyEFqEFW2r7wzE1QhIo8HkVw3Lr test";

describe("fake Hetzner Cloud API", () => {
  let fake: FakeHcloud;
  const call = async (method: string, path: string, body?: unknown, token = TOKEN) => {
    const res = await fetch(`${fake.endpoint}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };

  beforeEach(async () => {
    fake = await new FakeHcloud({ token: TOKEN }).start();
  });
  afterEach(() => fake.stop());

  it("answers a wrong or missing token with 401 unauthorized", async () => {
    assert.deepEqual(await call("GET", "/images", undefined, "nope"), { status: 401, body: { error: { code: "unauthorized", message: "unable to authenticate", details: null } } });
    const res = await fetch(`${fake.endpoint}/images`);
    assert.equal(res.status, 401);
    assert.deepEqual(fake.callLines(), ["GET /v1/images", "GET /v1/images"]);
  });

  it("refuses an unknown server type or location with invalid_input naming the field, an unknown SSH key with not_found", async () => {
    const server = { name: "b", server_type: "cpx21", image: "debian-12", location: "fsn1" };
    assert.deepEqual(await call("POST", "/servers", { ...server, server_type: "cpx99" }), {
      status: 400,
      body: { error: { code: "invalid_input", message: "invalid input in field 'server_type'", details: { fields: [{ name: "server_type", messages: ["server type 'cpx99' not found"] }] } } },
    });
    assert.deepEqual((await call("POST", "/servers", { ...server, location: "mars1" })).body.error.details, { fields: [{ name: "location", messages: ["location 'mars1' not found"] }] });
    assert.deepEqual((await call("POST", "/servers", { ...server, ssh_keys: [42] })), { status: 404, body: { error: { code: "not_found", message: "ssh_key with ID '42' not found", details: null } } });
    assert.equal(fake.servers.size, 0);
  });

  it("refuses a label value over 63 characters (Hetzner's label syntax)", async () => {
    const res = await call("POST", "/ssh_keys", { name: "k", public_key: KEY, labels: { "talos-cluster/schematic": "a".repeat(64) } });
    assert.deepEqual([res.status, res.body.error.code, res.body.error.details.fields[0].name], [400, "invalid_input", "labels"]);
    assert.equal((await call("POST", "/ssh_keys", { name: "k", public_key: KEY, labels: { "talos-cluster/schematic": "a".repeat(63) } })).status, 201);
    assert.equal((await call("POST", "/ssh_keys", { name: "k", public_key: KEY })).body.error.code, "uniqueness_error");
  });

  it("keeps actions running until polled, snapshots with their labels and architecture, and 404s what is gone", async () => {
    const created = await call("POST", "/servers", { name: "b", server_type: "cax11", image: "debian-12", location: "fsn1", start_after_create: false });
    assert.deepEqual([created.status, created.body.action.status, created.body.next_actions, created.body.server.status], [201, "running", [], "off"]);
    const id = created.body.server.id;
    assert.equal((await call("GET", `/actions?id=${created.body.action.id}`)).body.actions[0].status, "success");
    const image = await call("POST", `/servers/${id}/actions/create_image`, { type: "snapshot", description: "d", labels: { a: "b" } });
    assert.deepEqual([image.body.image.type, image.body.image.architecture, image.body.image.labels], ["snapshot", "arm", { a: "b" }]);
    assert.equal((await call("POST", `/servers/${id}/actions/create_image`, { type: "daily" })).body.error.code, "invalid_input");
    assert.deepEqual((await call("GET", "/images?type=snapshot&label_selector=a=b")).body.images.map((i: { id: number }) => i.id), [image.body.image.id]);
    assert.equal((await call("DELETE", `/images/${image.body.image.id}`)).status, 204);
    assert.equal((await call("DELETE", `/images/${image.body.image.id}`)).body.error.code, "not_found");
    assert.equal((await call("DELETE", `/servers/${id}`)).status, 200);
    assert.equal((await call("POST", `/servers/${id}/actions/poweron`)).status, 404);
  });
});
