/** Alert media: clip WAVs, stored spectrograms and their PNG pictures. */
export * from './alert-media.js';
export * from './pictures.js';
