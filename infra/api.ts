import { apiFunction } from './functions.ts';
import { production } from './stage.ts';

/**
 * API Gateway HTTP API: every route to the api function, which answers 404/405 itself in the OpenAI envelope.
 * CORS off at the gateway: left on, SST allows every origin and API Gateway answers preflights itself, so the
 * app's CORS_ORIGINS allow-list (which answers OPTIONS and sets the headers) would never be asked.
 */
export const api = new sst.aws.ApiGatewayV2('HttpApi', {
  cors: false,
  accessLog: { retention: production ? '3 months' : '1 week' },
});
api.route('$default', apiFunction.arn);
