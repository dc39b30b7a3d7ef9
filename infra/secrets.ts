/** `npx sst secret set NAME VALUE --stage STAGE`; linked to the functions that need them, never in the environment. */
export const openaiApiKey = new sst.Secret('OpenaiApiKey');
/** Optional: any OpenAI-compatible endpoint (Azure, vLLM, LiteLLM); empty means OpenAI. */
export const openaiBaseUrl = new sst.Secret('OpenaiBaseUrl', '');
/** Comma-separated keys of the default project; more keys and projects with `npm run keys` through a tunnel. */
export const apiKeys = new sst.Secret('ApiKeys');
