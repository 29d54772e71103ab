/** Alerts: price and portfolio alerts, stored in the store, fired by {@link startAlertEvaluator}. */
export {
  type AlertStore,
  alertStore,
  type CreateAlertInput,
  createAlert,
  deleteAlert,
  getAlert,
  isPriceAlert,
  listAlerts,
  MAX_ALERT_COOL_DOWN_MS,
  MAX_ALERT_WINDOW_DAYS,
  PORTFOLIO_ALERT_KINDS,
  PRICE_ALERT_KINDS,
  type UpdateAlertInput,
  updateAlert,
} from './alerts.js';
export { type AlertEvaluator, type AlertEvaluatorOptions, type AlertHost, startAlertEvaluator } from './evaluate.js';
