/**
 * Saving trained models: the TensorFlow.js LayersModel format (model.json + one weights
 * file, written by our own IO handler so that no browser or tfjs-node APIs are needed)
 * and, through the converter and the TFLite writer, a float32 .tflite file.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { KestrelError } from '../errors.js';
import { writeFileAtomic } from '../cli/io.js';
import { layersModelToGraph } from '../convert/tfjs-layers.js';
import { writeTflite } from '../tflite/writer.js';

/** Refuses an existing non-empty output directory unless `force`; creates it otherwise. */
export function prepareOutDir(dir: string, force: boolean): void {
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new KestrelError('E_USAGE', `${dir}: exists and is not a directory`);
    if (!force && readdirSync(dir).length > 0) throw new KestrelError('E_USAGE', `${dir}: the output directory is not empty; pass --force to overwrite it`);
  }
}

function ensureDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new KestrelError('E_IO', `${dir}: cannot create the output directory: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function joinWeights(data: ArrayBuffer | ArrayBuffer[] | undefined): Uint8Array {
  if (!data) return new Uint8Array(0);
  const parts = Array.isArray(data) ? data : [data];
  const out = new Uint8Array(parts.reduce((a, p) => a + p.byteLength, 0));
  let off = 0;
  for (const p of parts) { out.set(new Uint8Array(p), off); off += p.byteLength; }
  return out;
}

export interface SavedLayersModel {
  /** The model.json document. */
  modelJson: Record<string, unknown>;
  /** The weights file's bytes (the manifest's weights, in order). */
  weights: Uint8Array;
}

/** Serializes a LayersModel into model.json and weight bytes, in memory. */
export async function serializeLayersModel(model: tfl.LayersModel, metadata: Record<string, unknown>, weightsFile = 'weights.bin'): Promise<SavedLayersModel> {
  let saved: SavedLayersModel | null = null;
  await model.save(tf.io.withSaveHandler(async (a) => {
    const weights = joinWeights(a.weightData as ArrayBuffer | ArrayBuffer[] | undefined);
    saved = {
      modelJson: {
        format: 'layers-model',
        generatedBy: a.generatedBy,
        convertedBy: null,
        modelTopology: a.modelTopology,
        weightsManifest: [{ paths: [weightsFile], weights: a.weightSpecs ?? [] }],
        userDefinedMetadata: metadata,
      },
      weights,
    };
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: weights.length } };
  }));
  return saved!;
}

/** Writes model.json and weights.bin into `dir`; returns the paths written. */
export async function saveLayersModel(model: tfl.LayersModel, dir: string, metadata: Record<string, unknown>): Promise<{ files: string[]; saved: SavedLayersModel }> {
  ensureDir(dir);
  const saved = await serializeLayersModel(model, metadata);
  const jsonPath = join(dir, 'model.json'), binPath = join(dir, 'weights.bin');
  writeFileAtomic(binPath, saved.weights, { force: true, what: 'weights' });
  writeFileAtomic(jsonPath, JSON.stringify(saved.modelJson) + '\n', { force: true, what: 'model.json' });
  return { files: [jsonPath, binPath], saved };
}

/** Loads a model saved by `saveLayersModel` (or any single-file tfjs layers model) from memory. */
export async function loadSavedLayersModel(modelJson: Record<string, unknown>, weights: Uint8Array): Promise<tfl.LayersModel> {
  const tflm = await import('@tensorflow/tfjs-layers');
  const manifest = modelJson['weightsManifest'] as { weights: tf.io.WeightsManifestEntry[] }[];
  const specs = manifest.flatMap((g) => g.weights);
  const buf = weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer;
  return tflm.loadLayersModel(tf.io.fromMemory({ modelTopology: modelJson['modelTopology'] as object, weightSpecs: specs, weightData: buf }));
}

/** Converts a saved LayersModel to a float32 .tflite file (batch 1); returns its path. */
export function saveFloatTflite(saved: SavedLayersModel, path: string): string {
  const graph = layersModelToGraph(saved.modelJson, saved.weights, { source: path });
  const bytes = writeTflite(graph);
  writeFileAtomic(path, bytes, { force: true, what: 'float .tflite' });
  return path;
}
