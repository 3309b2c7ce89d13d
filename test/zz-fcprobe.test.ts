import fc from 'fast-check';
export const a = fc;
