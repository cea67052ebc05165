// corral-server: the kernel's entry point. Everything it does is in Server.
#include "kernel/server/server.h"

int main(int argc, char** argv) { return corral::kernel::server::runServer(argc, argv); }
