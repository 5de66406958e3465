/**
 * Kernel ids. Each op family owns a range of 100 ids: id = family * 100 + n.
 * The family's TypeScript prepare file and its AssemblyScript file list the same
 * numbers; assembly/index.ts routes an id to the family's run function by id / 100.
 */
export const FAMILY = {
  conv: 1, // CONV_2D, DEPTHWISE_CONV_2D          assembly/ops/conv.ts
  matmul: 2, // FULLY_CONNECTED, TRANSPOSE_CONV   assembly/ops/matmul.ts
  elementwise: 3, // ADD SUB MUL MAXIMUM MINIMUM  assembly/ops/elementwise.ts
  activation: 4, // SOFTMAX LOGISTIC TANH RELU RELU6 LEAKY_RELU HARD_SWISH QUANTIZE DEQUANTIZE  assembly/ops/activation.ts
  shape: 5, // RESHAPE CONCATENATION PAD TRANSPOSE STRIDED_SLICE MEAN AVERAGE_POOL_2D MAX_POOL_2D  assembly/ops/shape.ts
  lstm: 6, // UNIDIRECTIONAL_SEQUENCE_LSTM         assembly/ops/lstm.ts
  svdf: 7, // SVDF                                 assembly/ops/svdf.ts
} as const;
