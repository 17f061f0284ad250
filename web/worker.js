// worker.js - runs the mdsrec core off the main thread. mdsrec.js starts it and sends
// {id, op, args}; it answers {id, ok: true, value} or {id, ok: false, code, message}.
import { Engine } from './mdsrec.js';

let engine = null;
const OPS = new Set(['index', 'recommend', 'similar', 'list']);

self.onmessage = async ({ data: { id, op, args } }) => {
  try {
    let value;
    if (op === 'open') {
      if (engine) engine.close();
      engine = await Engine.open(args[0]);
      value = engine.info;
    } else if (engine && OPS.has(op)) {
      value = engine[op](...args);
    } else {
      throw Object.assign(new Error(engine ? `unknown operation ${op}` : 'no model is open'), { code: 'MDSREC_INTERNAL' });
    }
    self.postMessage({ id, ok: true, value });
  } catch (e) {
    self.postMessage({ id, ok: false, code: e.code || 'MDSREC_INTERNAL', message: e.message });
  }
};
