// Types for the two undici modules the client imports directly (see transport.ts).
declare module 'undici/lib/dispatcher/agent' {
  import { Agent } from 'undici';
  export default Agent;
}
declare module 'undici/lib/api/api-request' {
  import type { Dispatcher } from 'undici';
  const request: (this: Dispatcher, options: Dispatcher.RequestOptions) => Promise<Dispatcher.ResponseData>;
  export default request;
}
