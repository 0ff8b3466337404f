// TypeScript declarations for cti-client.js, the browser client of the ctibridge
// WebSocket API (cti.v1). The frame types follow docs/asyncapi.yaml; tests/asyncapi.rs
// checks that CtiEvents and CtiMethods name exactly the document's events and methods,
// and that this file compiles.
//
// Load cti-client.js with a <script> tag; it defines the global `CtiClient`, so these
// are global declarations (reference this file, or list it in tsconfig's `files`).

/** RFC 3339 UTC time, up to nanoseconds. */
type CtiTime = string;

type CtiErrorCode =
  | "unauthenticated"
  | "forbidden"
  | "invalid_message"
  | "unknown_method"
  | "invalid_params"
  | "call_not_found"
  | "invalid_destination"
  | "not_supported"
  | "switch_unavailable"
  | "timeout"
  | "rate_limited";

/** A server error, or one of the client's own ("not_connected", "timeout", "disconnected"). */
interface CtiError {
  code: CtiErrorCode | "not_connected" | "disconnected";
  message: string;
}

interface CtiCrmMatch {
  id: number;
  name: string;
  company?: string;
  external_id?: string;
  url?: string;
  route?: string;
}

interface CtiCall {
  call: string;
  switch: string;
  direction: "in" | "out" | "internal";
  ani: string | null;
  ani_e164: string | null;
  dnis: string | null;
  queue: string | null;
  digits: string | null;
  client_ref: string | null;
  state: "idle" | "queued" | "dialing" | "ringing" | "talking" | "held" | "ended";
  parties: { device: string; state: "alerting" | "initiated" | "connected" | "held" | "queued" }[];
  crm: { matches: CtiCrmMatch[]; pending: boolean; service?: string; campaign?: string };
  offered_at: CtiTime;
  answered_at: CtiTime | null;
}

interface CtiCallAtDevice extends CtiCall {
  device: string;
}

interface CtiCallEnded extends CtiCall {
  cause: string;
  outcome: "answered" | "failed" | "short_abandon" | "abandoned";
  ended_at: CtiTime;
  talk_s: number | null;
  hold_s: number | null;
  queue_s: number | null;
  ring_s: number | null;
  agent: string | null;
  extension: string | null;
  transferred_to: string | null;
}

interface CtiAgent {
  agent: string;
  extension: string;
  switch: string;
  state: "logged_out" | "ready" | "not_ready" | "acw";
  reason: string | null;
  phone: "idle" | "ringing" | "dialing" | "talking" | "held";
  since: CtiTime;
}

interface CtiQueueStats {
  queue: string;
  waiting: number;
  longest_wait_s: number;
  offered: number;
  handled: number;
  abandoned: number;
  short_abandons: number;
  abandon_rate: number;
  service_level: number;
  service_level_s: number;
  asa_s: number;
  agents_ready: number;
}

interface CtiLinkEvent {
  switch: string;
  adapter: string;
  reason: string | null;
}

/** The `data` of each event, by name (docs/asyncapi.yaml, the evt messages). */
interface CtiEvents {
  "snapshot": {
    calls: CtiCall[];
    agents: CtiAgent[];
    links: { switch: string; adapter: string; up: boolean }[];
    queues: CtiQueueStats[];
    database: { up: boolean; journal_pending: number };
    resumed: false;
  };
  "call.offered": CtiCallAtDevice;
  "call.originated": CtiCallAtDevice & { to: string };
  "call.answered": CtiCallAtDevice;
  "call.held": CtiCallAtDevice;
  "call.retrieved": CtiCallAtDevice;
  "call.transferred": CtiCallAtDevice & { to: string; merged_call: string | null };
  "call.conferenced": CtiCallAtDevice & { added: string; merged_call: string | null };
  "call.updated": CtiCall & {
    device?: string;
    diverted_to?: string;
    left?: string;
    cause?: string;
    reconciled?: true;
  };
  "call.ended": CtiCallEnded;
  "call.record": {
    switch: string;
    call?: string;
    record: { [key: string]: string | number | boolean | undefined };
    crm: { matches: CtiCrmMatch[] };
  };
  "agent.state": CtiAgent;
  "queue.stats": CtiQueueStats;
  "link.up": CtiLinkEvent;
  "link.down": CtiLinkEvent;
  "database.up": { journal_pending: number };
  "database.down": { journal_pending: number };
}

type CtiEventName = keyof CtiEvents;

/** An `evt` frame; narrow it by `name`. */
type CtiEvent = {
  [N in CtiEventName]: { type: "evt"; seq: number; topic: string; name: N; ts: string; data: CtiEvents[N] };
}[CtiEventName];

interface CtiCallParams {
  call: string;
  device?: string;
}
type CtiEmpty = Record<string, never>;

/** Each method's params and result (docs/asyncapi.yaml, the req operations). */
interface CtiMethods {
  "subscribe": { params: { topics?: string[] }; result: { topics: string[] } };
  "call.dial": {
    params: { to: string; from?: string; client_ref?: string };
    result: { call: string; client_ref?: string };
  };
  "call.answer": { params: CtiCallParams; result: CtiEmpty };
  "call.hangup": { params: CtiCallParams; result: CtiEmpty };
  "call.hold": { params: CtiCallParams; result: CtiEmpty };
  "call.retrieve": { params: CtiCallParams; result: CtiEmpty };
  "call.transfer": {
    params: CtiCallParams & { mode: "blind" | "consult" | "complete"; to?: string; consult_call?: string };
    result: CtiEmpty | { consult_call: string };
  };
  "call.conference": { params: CtiCallParams & { to?: string; consult_call?: string }; result: CtiEmpty };
  "call.dtmf": { params: CtiCallParams & { digits: string }; result: CtiEmpty };
  "agent.login": { params: { agent?: string; extension?: string; password?: string }; result: CtiEmpty };
  "agent.logout": { params: { agent?: string }; result: CtiEmpty };
  "agent.set_state": {
    params: { state: "ready" | "not_ready" | "acw"; reason?: string; agent?: string };
    result: CtiEmpty;
  };
  "supervisor.monitor": {
    params: { call: string; device?: string; mode?: "silent" | "whisper" };
    result: CtiEmpty;
  };
  "supervisor.barge": { params: { call: string; device?: string }; result: CtiEmpty };
  "supervisor.force_release": { params: { call: string }; result: CtiEmpty };
  "crm.lookup": {
    params: { number: string };
    result: { number: string; e164: string | null; matches: CtiCrmMatch[] };
  };
  "sim.call": { params: { from: string; to: string; digits?: string; switch?: string }; result: CtiEmpty };
  "report.agents": {
    params: { from?: string; to?: string };
    result: { from: CtiTime; to: CtiTime; agents: { agent: string; [figure: string]: unknown }[] };
  };
  "report.queues": {
    params: { from?: string; to?: string };
    result: { from: CtiTime; to: CtiTime; queues: { queue: string; [figure: string]: unknown }[] };
  };
}

type CtiMethod = keyof CtiMethods;

interface CtiWelcome {
  type: "welcome";
  session: string;
  seq: number;
  resumed: boolean;
  role: "agent" | "supervisor" | "app" | "admin";
  agent: string | null;
  devices: string[];
  server: string;
}

type CtiStatus = "connecting" | "reconnecting" | "connected" | "not signed in" | "token rejected";

interface CtiClientOptions {
  url?: string;
  requestTimeout?: number;
  storageKey?: string;
  onStatus?: (status: CtiStatus) => void;
  onWelcome?: (welcome: CtiWelcome) => void;
  onEvent?: (event: CtiEvent) => void;
  onError?: (error: CtiError | { message: string }, frame?: { type: "error"; error: CtiError }) => void;
}

declare class CtiClient {
  constructor(options?: CtiClientOptions);
  static readonly PROTOCOL: "cti.v1";
  static readonly TOKEN_KEY: string;
  static sameOrigin(path?: string): string;
  static loadToken(key?: string): string;
  static saveToken(token: string, key?: string): void;
  static forgetToken(key?: string, dropFromUrl?: boolean): void;
  static util: { [helper: string]: (...args: any[]) => any };
  static ui: {
    errorBanner(ids?: { banner?: string; text?: string; close?: string; hideAfter?: number }): {
      show(message: string): void;
      clear(): void;
    };
    connStatus(rootId?: string, textId?: string): (status: CtiStatus) => void;
  };

  url: string;
  requestTimeout: number;
  storageKey: string | null;
  onStatus: CtiClientOptions["onStatus"] | null;
  onWelcome: CtiClientOptions["onWelcome"] | null;
  onEvent: CtiClientOptions["onEvent"] | null;
  onError: CtiClientOptions["onError"] | null;
  token: string;
  session: string | null;
  seq: number;
  role: CtiWelcome["role"] | null;
  /** Estimated local clock minus server clock, in ms. */
  skew: number | null;
  readonly connected: boolean;

  connect(token?: string): void;
  /** Resolves with the method's result; rejects with a CtiError. */
  request<M extends CtiMethod>(method: M, params?: CtiMethods[M]["params"]): Promise<CtiMethods[M]["result"]>;
  disconnect(): void;
  reset(): void;
  signIn(token: string): void;
  signOut(): void;
  /** Seconds since a server timestamp, corrected for clock skew; null when not a date. */
  elapsed(iso: string): number | null;
}
