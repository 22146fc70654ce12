// Runs Lua scripts in lupa_browser.wasm (interp and stdlib built for wasm32-unknown-unknown)
// as a browser would: WebAssembly.instantiate with the clock as the only imports (no WASI,
// no files, no wasm-bindgen). Prints what each script printed, then its outcome line (`ok`
// or `error: ...`); exits 1 if an outcome is not `ok`, unless --allow-errors.
//
//   node conformance/browser/run.mjs MODULE.wasm [--fuel N] [--timeout MS] [--allow-errors]
//        (FILE.lua | -e CODE)...
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";

const [wasmPath, ...rest] = process.argv.slice(2);
const imports = {
  env: {
    host_system_time_ms: () => Date.now(),
    host_monotonic_ms: () => performance.now(),
  },
};
const { instance } = await WebAssembly.instantiate(readFileSync(wasmPath), imports);
const { memory, lupa_alloc, lupa_run } = instance.exports;

function run(name, source, fuel, timeoutMs) {
  const nameBytes = Buffer.from(name, "latin1");
  const bytes = Buffer.concat([nameBytes, source]);
  const ptr = lupa_alloc(bytes.length);
  new Uint8Array(memory.buffer, ptr, bytes.length).set(bytes);
  const res = lupa_run(ptr, bytes.length, nameBytes.length, BigInt(fuel), timeoutMs);
  const len = new DataView(memory.buffer).getUint32(res, true);
  return Buffer.from(new Uint8Array(memory.buffer, res + 4, len));
}

let fuel = 0, timeoutMs = 0, allowErrors = false, failed = false;
for (let i = 0; i < rest.length; i++) {
  const a = rest[i];
  if (a === "--fuel") { fuel = Number(rest[++i]); continue; }
  if (a === "--timeout") { timeoutMs = Number(rest[++i]); continue; }
  if (a === "--allow-errors") { allowErrors = true; continue; }
  // A file's chunk is named as lua.c names it ("@name"), an -e chunk "=(command line)".
  const [name, source] = a === "-e"
    ? ["=(command line)", Buffer.from(rest[++i], "utf8")]
    : ["@" + a, readFileSync(a)];
  const out = run(name, source, fuel, timeoutMs);
  process.stdout.write(out);
  process.stdout.write("\n");
  const last = out.toString("latin1").split("\n").pop();
  if (last !== "ok") failed = true;
}
process.exit(failed && !allowErrors ? 1 : 0);
