/** Training on TensorFlow.js: recipes, the training loop, curves and saving. */
export { trainRecipe, prepareTraining, evaluateModel, saveResult, summaryJson, modelMetadata } from './train.js';
export type { TrainOptions, TrainResult, TrainHistory, TrainProgress, EvalResult, TrainingBackend } from './train.js';
export { RECIPES, recipeEntry, lenet, autoencoder, lstmClassifier, drivingCnn, splitAutoencoder } from './recipes.js';
export type { RecipeName, RecipeMeta, RecipeOptions, BuiltRecipe, RecipeEntry, Task } from './recipes.js';
export { curvesSvg } from './curves.js';
export { serializeLayersModel, saveLayersModel, loadSavedLayersModel, saveFloatTflite, prepareOutDir } from './save.js';
