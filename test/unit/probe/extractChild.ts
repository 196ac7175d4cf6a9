// Child process for the resume test: extracts slowly (a pause per batch) until the parent kills it.
import { extractFeatures } from '../../../native/analyses/probe/extract';
import { genderRows, loadStories } from './stories';

async function main(): Promise<void> {
  const root = process.argv[2];
  const model = await loadStories();
  const slow = {
    layerMap: model.engine.layerMap,
    forwardBatch: async (...args: Parameters<typeof model.engine.forwardBatch>) => {
      await new Promise((r) => setTimeout(r, 150));
      return model.engine.forwardBatch(...args);
    },
  };
  const examples = genderRows().slice(0, 24).map((r) => ({ ids: model.encode({ text: r.text }).ids }));
  await extractFeatures(slow, examples, { pooling: 'last', cacheRoot: root, key: { model: 'm', dataset: 'resume', options: {} }, chunkSize: 4 });
}
void main();
