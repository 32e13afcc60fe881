// Graceful shutdown on SIGINT and SIGTERM.
//
// A consumer loop should stop between records, commit what it has handled
// and leave its group, rather than die mid-record. The handlers installed
// here only raise a flag that consumers check between polls; a second signal
// of the same kind falls back to the default action, so a stuck program can
// still be killed with a second Ctrl-C.
#pragma once

namespace corps {

/// Installs SIGINT and SIGTERM handlers that request shutdown, for each
/// signal whose disposition is still the default (an application's own
/// handler is left alone). Idempotent; safe to call from several threads.
void install_shutdown_handlers();

/// True once SIGINT or SIGTERM arrived (after install_shutdown_handlers) or
/// request_shutdown() was called. Async-signal-safe.
[[nodiscard]] bool shutdown_requested() noexcept;

/// Requests shutdown as a signal would. Async-signal-safe.
void request_shutdown() noexcept;

/// Clears a previous request (for tests and long-lived hosts).
void reset_shutdown() noexcept;

}  // namespace corps
