import { apiFunction } from './functions.ts';
import { production } from './stage.ts';

/** API Gateway HTTP API: every route to the api function, which answers 404/405 itself in the OpenAI envelope. */
export const api = new sst.aws.ApiGatewayV2('HttpApi', {
  accessLog: { retention: production ? '3 months' : '1 week' },
});
api.route('$default', apiFunction.arn);
