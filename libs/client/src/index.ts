export * from './mux';
export * from './tx-client';
// What an application needs from the protocol to use the client: the error it throws and the shapes it returns.
export { ERROR_CODES, TxError, type ErrorCode, type QueryReply, type UpdateEvent, type UpdateReply } from '@txtest/protocol';
