// test/proactor-singleshot.test.ts — the ProactorEventLoop suites again on its fallback path, where
// the ring has no provided buffers and every stream receive is a single-shot receive operation (as
// on a kernel older than Linux 6.0): the internal default buffer count is set to 0 before the
// suites' loops are made. Skipped only where io_uring cannot be used here (the suites say so).
import { proactorDefaults } from "../lib/loop/proactor.js";

proactorDefaults.recvBufferCount = 0;

await import("./proactor.test.js");
await import("./loop-sock.test.js");
