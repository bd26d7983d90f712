// What peerd serves: every file of the share table, whole, from DIR. The
// bytes are opened beneath DIR and only while they are still the ones that
// were hashed; a file that changed is handed back to the keeper.
#pragma once

#include "counters.h"
#include "share-keeper.h"

#include "serve/serve-source.h"

namespace peerd {

class ShareSource : public serve::ServeSource {
public:
	ShareSource(ShareKeeper& keeper, const Counters& counters) : keeper_(keeper), counters_(counters) {}

	std::optional<serve::ServedFile> find(const std::string& name) override;
	int open_file(const std::string& name) override;
	void changed(const std::string& name) override { keeper_.recheck(name); }
	Stats stats() const override { return counters_.pairs(); }

private:
	ShareKeeper& keeper_;
	const Counters& counters_;
};

} // namespace peerd
