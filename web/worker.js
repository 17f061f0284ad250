// worker.js - runs the mdsrec core off the main thread. mdsrec.js starts it and sends
// {id, op, args}; it answers {id, ok: true, value} or {id, ok: false, code, message}.
// 'open' may answer twice: at once with the head of a bundle still arriving (args.early),
// and when the whole model is in, under args.readyId. 'body': the bundle's download,
// started by the page before this worker was up.
import { Engine } from './mdsrec.js';

let engine = null, body = null;
const OPS = ['index', 'recommend', 'similar', 'list'];
const reply = (id, value) => self.postMessage({ id, ok: true, value });
const fail = (id, e) => self.postMessage({ id, ok: false, code: e.code || 'MDSREC_INTERNAL', message: e.message });
const answer = (id, f) => Promise.resolve().then(f).then((v) => reply(id, v), (e) => fail(id, e));

self.onmessage = ({ data: { id, op, args } }) => {
  if (op === 'body') return body && body(args[0]);
  if (op !== 'open') {
    return answer(id, () => {
      if (engine && OPS.includes(op)) return engine[op](...args);
      throw Object.assign(new Error(engine ? `unknown operation ${op}` : 'no model is open'), { code: 'MDSREC_INTERNAL' });
    });
  }
  const a = args[0];
  if (engine) engine.close();
  engine = null;
  if (a.body) a.body = new Promise((r) => { body = r; });
  let head = false;
  const onHead = a.early && ((e) => {
    engine = e;
    head = true;
    reply(id, e.info);
  });
  const opened = Engine.open(a, onHead).then((e) => (engine = e).info);
  if (!a.early) return answer(id, () => opened);
  // the first answer: the head, or the load's failure when it came before the head
  answer(a.readyId, () => opened);
  opened.then((info) => head || reply(id, info), (e) => head || fail(id, e));
};
