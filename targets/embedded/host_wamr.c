/*
 * A C firmware host for a model compiled by `kestrel compile`, on WAMR
 * (WebAssembly Micro Runtime, github.com/bytecodealliance/wasm-micro-runtime).
 *
 *   kestrel compile person_detect.tflite --out person_detect.wasm --header person_detect.h
 *   cc -O2 host_wamr.c -I$WAMR/core/iwasm/include -L$WAMR/build -liwasm -lm -lpthread -o host
 *   ./host person_detect.wasm frame.gray            (frame: 96*96 int8 bytes)
 *
 * Built against WAMR's public API (wasm_export.h); not compiled in this repository's CI,
 * because no C WebAssembly engine is packaged in Debian. The same steps run there in
 * JavaScript shells (shell-host.js, tested on SpiderMonkey and JavaScriptCore).
 * Use a SIMD build (the default) with WAMR's AOT or JIT modes; its classic interpreter
 * has no SIMD, so compile with --scalar for it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasm_export.h"
#include "person_detect.h"

static uint8_t *read_file(const char *path, uint32_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *buf = malloc((size_t)n);
  if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) { free(buf); buf = NULL; }
  fclose(f);
  *size = (uint32_t)n;
  return buf;
}

int main(int argc, char **argv) {
  char error[128];
  uint32_t wasm_size, input_size;
  if (argc != 3) { fprintf(stderr, "usage: %s MODEL.wasm INPUT.bin\n", argv[0]); return 2; }

  /* 1. Load the module bytes and the input tensor. */
  uint8_t *wasm = read_file(argv[1], &wasm_size);
  uint8_t *input = read_file(argv[2], &input_size);
  if (!wasm || !input || input_size != PERSON_DETECT_INPUT0_BYTES) { fprintf(stderr, "bad files\n"); return 1; }

  /* 2. Start the runtime, load and instantiate: the module imports nothing, needs no
   *    app heap, and its memory is fixed at PERSON_DETECT_MEMORY_PAGES pages. */
  RuntimeInitArgs init;
  memset(&init, 0, sizeof init);
  init.mem_alloc_type = Alloc_With_System_Allocator;
  if (!wasm_runtime_full_init(&init)) return 1;
  wasm_module_t module = wasm_runtime_load(wasm, wasm_size, error, sizeof error);
  if (!module) { fprintf(stderr, "load: %s\n", error); return 1; }
  wasm_module_inst_t inst = wasm_runtime_instantiate(module, 16 * 1024, 0, error, sizeof error);
  if (!inst) { fprintf(stderr, "instantiate: %s\n", error); return 1; }
  wasm_exec_env_t env = wasm_runtime_create_exec_env(inst, 16 * 1024);

  /* 3. Copy the input to its fixed offset in linear memory (= input_ptr(0)). */
  int8_t *in = wasm_runtime_addr_app_to_native(inst, PERSON_DETECT_INPUT0_OFFSET);
  memcpy(in, input, PERSON_DETECT_INPUT0_BYTES);

  /* 4. invoke() -> 0 on success. */
  wasm_function_inst_t invoke = wasm_runtime_lookup_function(inst, "invoke");
  uint32_t results[1] = { 0 };
  if (!invoke || !wasm_runtime_call_wasm(env, invoke, 0, results) || results[0] != 0) {
    fprintf(stderr, "invoke failed: %s\n", wasm_runtime_get_exception(inst));
    return 1;
  }

  /* 5. Read the output (= output_ptr(0)) and dequantize with the header's constants. */
  const int8_t *out = wasm_runtime_addr_app_to_native(inst, PERSON_DETECT_OUTPUT0_OFFSET);
  for (uint32_t k = 0; k < PERSON_DETECT_OUTPUT0_BYTES; k++) {
    float p = (out[k] - PERSON_DETECT_OUTPUT0_ZERO_POINT) * PERSON_DETECT_OUTPUT0_SCALE;
    printf("class %u: %d (%.3f)\n", k, out[k], p);
  }

  wasm_runtime_destroy_exec_env(env);
  wasm_runtime_deinstantiate(inst);
  wasm_runtime_unload(module);
  wasm_runtime_destroy();
  free(wasm);
  free(input);
  return 0;
}
