// onnx.js - writes the ONNX model of the onnxruntime-web peer: Gemm(user[1,D], items[N,D],
// transB = 1) -> scores[1,N], then TopK(K). The item matrix is a constant initializer.
// A protobuf writer of the few message fields this needs (onnx.proto3 field numbers).
// Classic-worker script (importScripts): defines self.buildGemmTopK.
'use strict';

(() => {
  const te = new TextEncoder();
  // A message is a list of Uint8Array parts; nested messages are length-prefixed.
  const varint = (v) => {
    const out = [];
    let n = BigInt.asUintN(64, BigInt(v)); // int64: negatives as 10-byte two's complement
    do {
      let b = Number(n & 0x7fn);
      n >>= 7n;
      if (n) b |= 0x80;
      out.push(b);
    } while (n);
    return Uint8Array.from(out);
  };
  const size = (parts) => parts.reduce((s, p) => s + p.length, 0);
  const key = (field, wire) => varint((field << 3) | wire);
  const fInt = (field, v) => [key(field, 0), varint(v)];
  const fBytes = (field, bytes) => [key(field, 2), varint(bytes.length), bytes];
  const fStr = (field, s) => fBytes(field, te.encode(s));
  const fMsg = (field, parts) => [key(field, 2), varint(size(parts)), ...parts];
  const concat = (parts) => {
    const out = new Uint8Array(size(parts));
    let at = 0;
    for (const p of parts) out.set(p, at), (at += p.length);
    return out;
  };

  const FLOAT = 1, INT64 = 7;
  // TensorProto: dims 1, data_type 2, name 8, raw_data 9
  const tensor = (name, type, dims, raw) => [...dims.flatMap((d) => fInt(1, d)), ...fInt(2, type), ...fStr(8, name), ...fBytes(9, raw)];
  // ValueInfoProto: name 1, type 2 (TypeProto.tensor_type 1: elem_type 1, shape 2 (dim 1: dim_value 1))
  const valueInfo = (name, type, dims) =>
    [...fStr(1, name), ...fMsg(2, fMsg(1, [...fInt(1, type), ...fMsg(2, dims.flatMap((d) => fMsg(1, fInt(1, d))))]))];
  // AttributeProto: name 1, i 3, type 20 (INT = 2)
  const attrInt = (name, v) => [...fStr(1, name), ...fInt(3, v), ...fInt(20, 2)];
  // NodeProto: input 1, output 2, name 3, op_type 4, attribute 5
  const node = (op, inputs, outputs, attrs) =>
    [...inputs.flatMap((s) => fStr(1, s)), ...outputs.flatMap((s) => fStr(2, s)), ...fStr(3, op.toLowerCase()), ...fStr(4, op),
     ...attrs.flatMap((a) => fMsg(5, a))];

  // items: Float32Array [N * D], row-major [N][D]. Returns the model bytes.
  self.buildGemmTopK = function buildGemmTopK(N, D, K, items) {
    const kBytes = new Uint8Array(new BigInt64Array([BigInt(K)]).buffer);
    const graph = [
      ...fMsg(1, node('Gemm', ['user', 'items'], ['scores'], [attrInt('transB', 1)])),
      ...fMsg(1, node('TopK', ['scores', 'k'], ['values', 'indices'], [attrInt('axis', -1), attrInt('largest', 1), attrInt('sorted', 1)])),
      ...fStr(2, 'mdsrec_scoring'),
      ...fMsg(5, tensor('items', FLOAT, [N, D], new Uint8Array(items.buffer, items.byteOffset, items.byteLength))),
      ...fMsg(5, tensor('k', INT64, [1], kBytes)),
      ...fMsg(11, valueInfo('user', FLOAT, [1, D])),
      ...fMsg(12, valueInfo('values', FLOAT, [1, K])),
      ...fMsg(12, valueInfo('indices', INT64, [1, K])),
    ];
    // ModelProto: ir_version 1, producer_name 2, graph 7, opset_import 8 (domain 1, version 2)
    return concat([...fInt(1, 8), ...fStr(2, 'mdsrec-bench'), ...fMsg(7, graph), ...fMsg(8, [...fStr(1, ''), ...fInt(2, 13)])]);
  };
})();
