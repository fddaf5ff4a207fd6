/** `npm run schema:emit`: writes the SDL of the GraphQL schema to schema/schema.graphql. */
import { writeFileSync } from 'node:fs';
import { SCHEMA_FILE, printCreditsSchema } from '../graphql/print-schema';

writeFileSync(SCHEMA_FILE, printCreditsSchema());
console.log(`wrote ${SCHEMA_FILE}`);
