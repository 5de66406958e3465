// Runs a module made by `kestrel compile` in a bare JavaScript shell, using only the
// module's exports (the same steps as a C host): SpiderMonkey through gjs, or
// JavaScriptCore through jsc.
//
//   gjs shell-host.js MODEL.wasm in_0.bin [in_1.bin ...]
//   jsc shell-host.js -- MODEL.wasm in_0.bin [in_1.bin ...]
//
// Prints one line per output: `output <k> <dtype code> <byte count> <hex bytes>`, then
// `status <invoke() result>`.
/* global ARGV, imports, readFile, print */
// jsc puts the arguments after `--` in a global named `arguments`; read it outside any function.
var shellArguments = typeof arguments !== 'undefined' ? arguments : [];
(function () {
  var args, readBytes;
  if (typeof imports !== 'undefined' && imports.gi) {
    // gjs (SpiderMonkey): files through GLib.
    var GLib = imports.gi.GLib;
    args = ARGV;
    readBytes = function (path) {
      var r = GLib.file_get_contents(path);
      if (!r[0]) throw new Error('cannot read ' + path);
      return new Uint8Array(r[1]);
    };
  } else {
    // jsc (JavaScriptCore): the shell's readFile with 'binary' gives a Uint8Array.
    args = shellArguments;
    readBytes = function (path) { return new Uint8Array(readFile(path, 'binary')); };
  }
  if (args.length < 1) throw new Error('usage: shell-host.js MODEL.wasm in_0.bin ...');

  // 1. Compile and instantiate with no imports.
  var module = new WebAssembly.Module(readBytes(args[0]));
  var x = new WebAssembly.Instance(module, {}).exports;
  if (x.abi_version() !== 1) throw new Error('unknown ABI version ' + x.abi_version());

  // 2. Copy each input's bytes to memory + input_ptr(k).
  var n = x.input_count();
  if (args.length - 1 !== n) throw new Error('model has ' + n + ' input(s), got ' + (args.length - 1) + ' file(s)');
  for (var k = 0; k < n; k++) {
    var bytes = readBytes(args[1 + k]);
    if (bytes.length !== x.input_bytes(k)) throw new Error('input ' + k + ' needs ' + x.input_bytes(k) + ' bytes, got ' + bytes.length);
    new Uint8Array(x.memory.buffer, x.input_ptr(k), bytes.length).set(bytes);
  }

  // 3. Run.
  var status = x.invoke();

  // 4. Read each output at memory + output_ptr(k).
  var hex = '0123456789abcdef';
  for (var o = 0; o < x.output_count(); o++) {
    var out = new Uint8Array(x.memory.buffer, x.output_ptr(o), x.output_bytes(o));
    var s = '';
    for (var i = 0; i < out.length; i++) s += hex[out[i] >> 4] + hex[out[i] & 15];
    print('output ' + o + ' ' + x.output_type(o) + ' ' + out.length + ' ' + s);
  }
  print('status ' + status);
})();
