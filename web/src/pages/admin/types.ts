// Answer shapes of routes whose server modules cannot be imported as types here (they pull in
// server-only code the browser's type-check does not load): kept equal to src/server/schemas.ts
// (UserView, AuditEntryView, NodeRegistrationView) and src/environments (EnvironmentView).

export interface UserView {
  id: number;
  name: string;
  displayName: string;
  email: string | null;
  disabled: boolean;
  serverAdmin: boolean;
  hasPassword: boolean;
  mfa: boolean;
  createdAt: string;
}

export interface AuditEntryView {
  seq: number;
  at: string;
  actor: { kind: string; id: string | null; display: string | null };
  action: string;
  object: { kind: string; id: string | null } | null;
  clientAddress: string | null;
  details: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

export interface NodeRegistration {
  id: number;
  name: string;
  labels: string[];
  requiredLabels: string[];
  pool: string;
  workerTrust: "trusted" | "untrusted";
  operator: string | null;
  state: "pending" | "used" | "expired" | "revoked";
  createdAt: string;
  expiresAt: string;
  usedAt: string | null;
  revokedAt: string | null;
  nodeId: number | null;
}

export interface NewNodeRegistration extends NodeRegistration {
  token: string;
}

export interface EnvironmentView {
  name: string;
  repositoryId: number;
  reviewers: string[];
  reviewerRole: "viewer" | "developer" | "maintainer" | "admin" | null;
  branches: string[];
  tags: string[];
  waitTimerMinutes: number;
  createdBy: string;
  updatedBy: string;
  createdAt: string;
  updatedAt: string;
}
