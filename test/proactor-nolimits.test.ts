// test/proactor-nolimits.test.ts — the ProactorEventLoop receive suite and the Protocol suite again
// with multishot receives that have no byte limit, as on a kernel older than Linux 6.17: the
// stream queue's bound is kept by cancelling the receive, and Protocol transports read with
// single-shot receives. The internal default is turned off before the suites' loops are made.
// Skipped only where io_uring cannot be used here (the suites say so).
import { proactorDefaults } from "../lib/loop/proactor.js";

proactorDefaults.recvByteLimits = false;

// The Protocol suite first: its fd-count hook must be registered before every suite's loop fixtures
// (expectFdCountAfterEach's rule), so that it counts once they have closed their loops.
await import("./asyncio-protocols.test.js");
await import("./proactor-recv.test.js");
