#include "corps/schema.hpp"

#include <google/protobuf/compiler/importer.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/descriptor_database.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <fstream>
#include <list>
#include <memory>
#include <set>

#include "corps/error.hpp"
#include "detail/proto_text_limits.hpp"

namespace corps {

namespace pb = google::protobuf;

namespace {

class CollectErrors final : public pb::compiler::MultiFileErrorCollector {
 public:
  void AddError(const std::string& file, int line, int column,
                const std::string& message) override {
    errors_ += "\n  " + file + ":" + std::to_string(line + 1) + ":" + std::to_string(column + 1) +
               ": " + message;
  }
  [[nodiscard]] const std::string& errors() const { return errors_; }

 private:
  std::string errors_;
};

// The files of a DiskSourceTree, each read whole and checked before the
// parser sees it: protobuf's parser has no limit on nesting, and a file
// nested deep enough crashes the process (detail/proto_text_limits.hpp).
class CheckedSourceTree final : public pb::compiler::SourceTree {
 public:
  explicit CheckedSourceTree(pb::compiler::DiskSourceTree& disk) : disk_(disk) {}

  pb::io::ZeroCopyInputStream* Open(const std::string& filename) override {
    last_error_.clear();
    std::unique_ptr<pb::io::ZeroCopyInputStream> file(disk_.Open(filename));
    if (!file) return nullptr;
    std::string text;
    const void* data = nullptr;
    int size = 0;
    while (file->Next(&data, &size)) {
      text.append(static_cast<const char*>(data), static_cast<std::size_t>(size));
      if (text.size() > detail::max_proto_text_bytes) break;
    }
    if (auto refusal = detail::proto_text_refusal(text)) {
      last_error_ = "'" + filename + "' " + *refusal;
      return nullptr;
    }
    texts_.push_back(std::move(text));
    return new pb::io::ArrayInputStream(texts_.back().data(),
                                        static_cast<int>(texts_.back().size()));
  }

  std::string GetLastErrorMessage() override {
    return last_error_.empty() ? disk_.GetLastErrorMessage() : last_error_;
  }

 private:
  pb::compiler::DiskSourceTree& disk_;
  std::string last_error_;
  std::list<std::string> texts_;  // what the streams read; they live as long as the tree
};

}  // namespace

// Everything the pool reads from; kept alive as long as the pool is.
namespace {

// Where a file named by a path that was no file was looked for.
std::string where_looked(const std::vector<std::string>& include_dirs) {
  std::string dirs;
  for (const auto& dir : include_dirs) dirs += (dirs.empty() ? "" : ", ") + dir;
  std::error_code ignored;
  return " (no such file from " + std::filesystem::current_path(ignored).string() +
         (dirs.empty() ? ", and no include directory (-I DIR) to look under"
                       : ", nor under the include directories " + dirs) +
         ")";
}

}  // namespace

struct SchemaSet::Impl {
  pb::compiler::DiskSourceTree source_tree;
  CheckedSourceTree checked_tree{source_tree};
  pb::compiler::SourceTreeDescriptorDatabase source_database{&checked_tree};
  pb::SimpleDescriptorDatabase descriptor_sets;
  pb::DescriptorPoolDatabase compiled{*pb::DescriptorPool::generated_pool()};
  // Compiled types before the source tree: the source tree reports every
  // file it cannot find as an error, including corps/metadata.proto.
  pb::MergedDescriptorDatabase merged{
      std::vector<pb::DescriptorDatabase*>{&descriptor_sets, &compiled, &source_database}};
  CollectErrors errors;
  std::vector<std::string> files;
  std::unique_ptr<pb::DescriptorPool> pool;
  std::vector<std::string> include_dirs;
  // Files named that were no file from the working directory: found, if at
  // all, under the include directories.
  std::set<std::string> looked_up;
};

SchemaSet::SchemaSet() : impl_(std::make_shared<Impl>()) {
  impl_->source_database.RecordErrorsTo(&impl_->errors);
}
SchemaSet::~SchemaSet() = default;
SchemaSet::SchemaSet(SchemaSet&&) noexcept = default;
SchemaSet& SchemaSet::operator=(SchemaSet&&) noexcept = default;

void SchemaSet::add_include_dir(const std::filesystem::path& dir) {
  impl_->source_tree.MapPath("", dir.string());
  impl_->include_dirs.push_back(dir.string());
}

void SchemaSet::add_proto_file(const std::filesystem::path& file) {
  namespace fs = std::filesystem;
  if (!fs::exists(file)) {
    // Not a file here: a name to find in the include directories, as protoc
    // takes `-I proto shop/order.proto` run from outside proto/.
    impl_->files.push_back(file.lexically_normal().generic_string());
    impl_->looked_up.insert(impl_->files.back());
    return;
  }
  // A file under an include directory is named relative to it, as its
  // importers name it; both paths made absolute, however they were written.
  const auto absolute_file = fs::absolute(file).lexically_normal();
  for (const auto& dir : impl_->include_dirs) {
    const auto relative = absolute_file.lexically_relative(fs::absolute(dir).lexically_normal());
    if (!relative.empty() && *relative.begin() != "..") {
      impl_->files.push_back(relative.generic_string());
      return;
    }
  }
  // Anywhere else: its own directory becomes an include directory.
  add_include_dir(absolute_file.parent_path());
  impl_->files.push_back(absolute_file.filename().string());
}

void SchemaSet::add_descriptor_set(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  pb::FileDescriptorSet set;
  if (!in || !set.ParseFromIstream(&in)) {
    throw Exception(Error(Errc::invalid_argument, Stage::config,
                          "cannot read descriptor set '" + file.string() +
                              "' (expected the output of protoc --descriptor_set_out)"));
  }
  for (const auto& proto : set.file()) {
    if (!impl_->descriptor_sets.Add(proto)) {
      throw Exception(Error(Errc::invalid_argument, Stage::config,
                            "descriptor set '" + file.string() + "' holds '" + proto.name() +
                                "' twice, or in conflict with another"));
    }
    impl_->files.push_back(proto.name());
  }
}

std::shared_ptr<const pb::DescriptorPool> SchemaSet::build() {
  if (impl_->pool) {
    throw Exception(
        Error(Errc::invalid_argument, Stage::config, "SchemaSet::build() called twice"));
  }
  impl_->pool = std::make_unique<pb::DescriptorPool>(&impl_->merged);
  std::string missing;
  for (const auto& file : impl_->files) {
    if (impl_->pool->FindFileByName(file) != nullptr) continue;
    missing += "\n  " + file;
    if (impl_->looked_up.contains(file)) missing += where_looked(impl_->include_dirs);
  }
  if (!missing.empty() || !impl_->errors.errors().empty()) {
    throw Exception(
        Error(Errc::invalid_argument, Stage::config,
              "cannot load schemas:" + impl_->errors.errors() +
                  (missing.empty() ? "" : "\nnot loaded (not found, or errors above):" + missing)));
  }
  // The pool reads from the databases lazily: they live as long as it does.
  return std::shared_ptr<const pb::DescriptorPool>(impl_, impl_->pool.get());
}

std::vector<std::string> SchemaSet::message_types() const {
  std::vector<std::string> names;
  if (!impl_->pool) return names;
  for (const auto& file_name : impl_->files) {
    const auto* file = impl_->pool->FindFileByName(file_name);
    if (file == nullptr) continue;
    for (int i = 0; i < file->message_type_count(); ++i)
      names.push_back(file->message_type(i)->full_name());
  }
  return names;
}

}  // namespace corps
