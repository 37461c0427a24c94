/** Who did something, as the audit log records it. `id` is null for the system itself (worker jobs, boot). */
export interface Actor {
  id: string | null;
  name: string;
  requestId?: string;
}

export const systemActor = (name: string): Actor => ({ id: null, name: `system:${name}` });
