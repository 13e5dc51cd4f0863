export {
  parseGroundTruth,
  readGroundTruth,
  type GroundTruth,
  type GroundTruthEvent,
} from './ground-truth.js';
export {
  listGroups,
  readDataset,
  readGroup,
  readIndex,
  type DatasetGroup,
  type DatasetIndex,
  type GroupInfo,
  type GroupKind,
  type StreamRecording,
  type TestClip,
} from './reader.js';
export {
  frameCentreTimes,
  frameCount,
  groundTruthMask,
  hzToMel,
  melBinCentres,
  melFrequencies,
  melToHz,
  type Framing,
  type SpectrogramGrid,
} from './grid.js';
