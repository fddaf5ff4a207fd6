/** What the read side says about the reactions' work, for operators (GraphQL, the CLI, /readyz). */
export type { ParkedWork } from '../../reactions/work-reader';
