// The files a reconfigurable member keeps its membership in (ZooKeeper's QuorumPeerConfig
// writeDynamicConfig / editStaticConfig and QuorumPeer's .next file):
//   <zoo.cfg>.dynamic.<hex version>  the config in force, member lines only;
//   <zoo.cfg>.dynamic.next           a proposed config not yet committed, with its version;
//   <zoo.cfg>                        rewritten without server.N, peerType (and the client
//                                    port when the member line carries one), pointing at the
//                                    dynamic file with dynamicConfigFile=;
//   <zoo.cfg>.bak                    the original zoo.cfg, copied once at start.
// A service whose zoo.cfg folder is read-only (a package's /etc) keeps the dynamic files in
// dataDir instead and leaves zoo.cfg alone; the kernel reads the newest one from there.
// Every file is written to a temporary name and renamed, so a crash leaves the old or the new.
#pragma once

#include <optional>
#include <string>

#include "corral/host.h"
#include "quorum_config.h"

namespace corral::plugins::zab {

class ConfigFiles {
 public:
  ConfigFiles(std::string static_file, std::string data_dir, sdk::Logger& log);

  // Where the files go: beside zoo.cfg, or in dataDir when its folder is not writable.
  const std::string& folder() const { return folder_; }
  bool besideStaticFile() const { return beside_static_; }

  void backupStatic();
  void writeNext(const QuorumConfig& config);
  void removeNext();
  std::optional<QuorumConfig> readNext() const;
  // The config in force: its dynamic file, then zoo.cfg rewritten to point at it.
  // `erase_client`: this member's line carries its client address (it leaves zoo.cfg).
  void writeActive(const QuorumConfig& config, bool erase_client);

 private:
  std::string pathFor(const std::string& suffix) const;
  bool writeAtomically(const std::string& path, const std::string& text);
  void editStatic(const std::string& dynamic_path, bool erase_client);

  std::string static_file_;
  std::string folder_;
  bool beside_static_ = true;
  sdk::Logger& log_;
};

}  // namespace corral::plugins::zab
