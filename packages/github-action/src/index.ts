// GitHub runs this file with `node dist/index.js`: map stack traces through the bundle's source map.
process.setSourceMapsEnabled(true);
const { main } = await import('./main.js');
await main();
