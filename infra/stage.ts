/** Production keeps its data when removed and runs bigger and redundant; every other stage is disposable. */
export const production = $app.stage === 'production';

/** Settings fixed for the whole deployment (the embedding dimension is fixed when the schema is created). */
export const settings = {
  embeddingModel: 'text-embedding-3-small',
  embeddingDimensions: '1536',
};
