// Generates clients/typescript/src from the committed api/openapi.json
// (npm run generate). CI regenerates it and fails if the copy differs.
export default {
  input: '../../api/openapi.json',
  output: {
    path: '../../clients/typescript/src',
    // Explicit extensions: the sources then resolve under Node's ESM rules
    // (NodeNext) as well as in bundlers.
    module: { extension: '.js' },
  },
  plugins: [
    '@hey-api/typescript',
    '@hey-api/client-fetch',
    // One class per tag: ItemsService.listItems, UsersService.getMe, …
    { name: '@hey-api/sdk', operations: { strategy: 'byTags', containerName: '{{name}}Service' } },
  ],
};
