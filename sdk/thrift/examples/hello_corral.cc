// A worked example: a C++ client of Corral's Thrift front end, on the stubs the build
// generates from sdk/thrift/corral.thrift (libthrift 0.17's generated CorralClient).
//
//   hello_corral HOST PORT [binary|compact]
//
// It opens a session, creates a node, watches it, changes it from a second session, and
// shows the watch event arriving in the reply of its next call, before that reply's result;
// then an error (ZkError with ZooKeeper's code), a multi, and closing the session (which takes
// the ephemeral with it). It prints what it sees and exits 0, or 1 with the reason.
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/protocol/TCompactProtocol.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TSocket.h>

#include "corral_thrift/Corral.h"
#include "corral_thrift/corral_constants.h"

namespace api = corral::thrift_api;
using apache::thrift::protocol::TProtocol;
using apache::thrift::transport::TFramedTransport;
using apache::thrift::transport::TSocket;

namespace {

// One connection = one session, as on the ZooKeeper port.
struct Session {
  std::shared_ptr<TFramedTransport> transport;
  std::unique_ptr<api::CorralClient> client;
  api::SessionInfo info;
};

Session open(const std::string& host, int port, bool compact) {
  Session s;
  auto socket = std::make_shared<TSocket>(host, port);
  s.transport = std::make_shared<TFramedTransport>(socket);  // the server speaks framed only
  std::shared_ptr<TProtocol> protocol;
  if (compact) {
    protocol = std::make_shared<apache::thrift::protocol::TCompactProtocol>(s.transport);
  } else {
    protocol = std::make_shared<apache::thrift::protocol::TBinaryProtocol>(s.transport);
  }
  s.client = std::make_unique<api::CorralClient>(protocol);
  s.transport->open();
  api::OpenSessionRequest request;
  request.timeoutMs = 10000;
  s.client->openSession(s.info, request);  // must be the first call
  return s;
}

// Every result carries the events to deliver before it: this is where a client library
// calls its watchers.
void deliver(const std::vector<api::WatchEvent>& events) {
  for (const auto& event : events) {
    std::cout << "  event: " << api::to_string(event.type) << " " << event.path << "\n";
  }
}

std::vector<api::ACL> openAcl() {
  api::ACL acl;
  acl.perms = api::g_corral_constants.PERM_ALL;
  acl.id.scheme = "world";
  acl.id.id = "anyone";
  return {acl};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: hello_corral HOST PORT [binary|compact]\n";
    return 2;
  }
  const bool compact = argc > 3 && std::string(argv[3]) == "compact";
  try {
    Session alice = open(argv[1], std::atoi(argv[2]), compact);
    Session bob = open(argv[1], std::atoi(argv[2]), compact);
    std::cout << "session 0x" << std::hex << alice.info.sessionId << std::dec << ", timeout "
              << alice.info.timeoutMs << " ms\n";

    // An ephemeral node with a sequential name, and a data watch on it.
    api::CreateResult created;
    alice.client->create(created, "/hello-", "v1", openAcl(), api::CreateMode::EPHEMERAL_SEQUENTIAL, 0);
    std::cout << "created " << created.path << " (czxid " << created.stat.czxid << ")\n";
    api::GetDataResult got;
    alice.client->getData(got, created.path, /*watch=*/true);

    // Bob changes it; Alice's next reply brings the event first.
    api::SetDataResult set;
    bob.client->setData(set, created.path, "v2", api::g_corral_constants.ANY_VERSION);
    alice.client->getData(got, created.path, false);
    deliver(got.events);
    std::cout << "data now " << got.data << " (version " << got.stat.version << ")\n";
    if (got.events.empty() || got.events[0].type != api::EventType::NODE_DATA_CHANGED) {
      std::cerr << "expected the NODE_DATA_CHANGED event in the reply\n";
      return 1;
    }

    // Errors are ZkError with ZooKeeper's code and the path.
    try {
      api::DeleteResult removed;
      alice.client->remove(removed, "/no/such/node", -1);
    } catch (const api::ZkError& error) {
      std::cout << "remove: " << error.message << " (" << error.code << ") " << error.path << "\n";
    }

    // multi: all or nothing.
    std::vector<api::Op> ops(2);
    ops[0].__set_create(api::CreateOp());
    ops[0].create.path = "/hello-multi";
    ops[0].create.acl = openAcl();
    ops[1].__set_check(api::CheckOp());
    ops[1].check.path = created.path;
    ops[1].check.version = 0;  // stale: Bob's set made it 1
    try {
      api::MultiResult multi;
      alice.client->multi(multi, ops);
      std::cerr << "multi: a stale check passed\n";
      return 1;
    } catch (const api::ZkError& error) {
      std::cout << "multi: op " << error.failedOp << " failed with " << error.message << "\n";
    }

    // Closing the session removes its ephemeral, as Bob sees.
    api::DoneResult done;
    alice.client->closeSession(done);
    api::ExistsResult exists;
    bob.client->exists(exists, created.path, false);
    std::cout << created.path << (exists.__isset.stat ? " still exists\n" : " is gone\n");
    bob.client->closeSession(done);
    return exists.__isset.stat ? 1 : 0;
  } catch (const std::exception& e) {
    std::cerr << "hello_corral: " << e.what() << "\n";
    return 1;
  }
}
