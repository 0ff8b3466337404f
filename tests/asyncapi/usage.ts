// Compiled (not run) by validate.mjs --dts: cti-client.d.ts must type a CRM page's
// use of the client, so a wrong declaration fails here. `@ts-expect-error` lines
// must stay errors. validate.mjs compiles it together with the declarations it checks.

const cti = new CtiClient({
  url: "wss://cti.example.com/v1/ws",
  onEvent: (e) => {
    if (e.name === "call.offered") {
      const device: string = e.data.device;
      const matches: CtiCrmMatch[] = e.data.crm.matches;
      console.log(device, matches.length, e.data.answered_at);
    } else if (e.name === "call.ended") {
      const talk: number | null = e.data.talk_s;
      console.log(talk, e.data.outcome);
    } else if (e.name === "snapshot") {
      console.log(e.data.calls.length, e.data.database.journal_pending);
    }
  },
  onError: (err) => console.warn(err.message),
});
cti.connect("token");
cti.request("call.dial", { to: "+14155550123", client_ref: "task-1" }).then((r) => {
  const call: string = r.call;
  return cti.request("call.answer", { call });
});
cti.request("crm.lookup", { number: "4155550123" }).then((r) => console.log(r.e164, r.matches));
// @ts-expect-error: call.answer needs `call`
cti.request("call.answer", {});
// @ts-expect-error: no such method
cti.request("call.fly", {});
// @ts-expect-error: not a state
cti.request("agent.set_state", { state: "lunch" });
console.log(CtiClient.PROTOCOL, cti.connected);
