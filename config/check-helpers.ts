// Small helpers shared by the cross-field checks, which read the raw value defensively (they run
// even when some fields already failed, so that every problem is reported at once).
import type { z } from "zod";

export type Ctx = z.core.$RefinementCtx<unknown>;
export type Path = (string | number)[];

export const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
export const record = (v: unknown): Record<string, unknown> => (v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
export const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

export function issue(ctx: Ctx, path: Path, message: string) {
  ctx.addIssue({ code: "custom", path, message });
}
