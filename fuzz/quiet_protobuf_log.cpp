// LLVMFuzzerInitialize for every fuzzer: protobuf logs each string it refuses
// as invalid UTF-8. The fuzzers check the verdicts themselves, and the log
// would only slow the runs down. Compiled into each fuzzer (not a library:
// libFuzzer refers to this function weakly, which pulls no archive member).
#include <google/protobuf/stubs/logging.h>

#include <string>

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  google::protobuf::SetLogHandler(
      [](google::protobuf::LogLevel, const char*, int, const std::string&) {});
  return 0;
}
