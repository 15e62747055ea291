// `-o OUT.h5` of stats / affinity / place / compare: the result files are read back
// here with the bare HDF5 C API (not core's writer or reader), and their numbers must equal the
// verbs' --json output; the documented layout is also checked with h5py
// (result_layout_check.py) when python3-h5py is installed. Safety: OUT is never the input trace,
// an existing OUT needs --force, a failed analysis leaves no file behind.
#include <hdf5.h>

#include "analysis_cli_fixture.h"

using namespace sy::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Minimal read-only access with the C API; every failure is a test failure.
class H5File {
public:
    explicit H5File(const fs::path& p) : m_id(H5Fopen(p.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT)) {
        EXPECT_GE(m_id, 0) << p;
    }
    ~H5File() {
        if (m_id >= 0) H5Fclose(m_id);
    }
    bool has(const std::string& path) const { return H5Oexists_by_name(m_id, path.c_str(), H5P_DEFAULT) > 0; }

    std::vector<hsize_t> shape(const std::string& path) const {
        const hid_t d = H5Dopen2(m_id, path.c_str(), H5P_DEFAULT);
        EXPECT_GE(d, 0) << path;
        const hid_t space = H5Dget_space(d);
        std::vector<hsize_t> dims(static_cast<std::size_t>(H5Sget_simple_extent_ndims(space)));
        H5Sget_simple_extent_dims(space, dims.data(), nullptr);
        H5Sclose(space);
        H5Dclose(d);
        return dims;
    }
    template <typename T>
    std::vector<T> read(const std::string& path, hid_t mem_type) const {
        std::size_t n = 1;
        for (hsize_t d : shape(path)) n *= d;
        std::vector<T> values(n);
        const hid_t d = H5Dopen2(m_id, path.c_str(), H5P_DEFAULT);
        if (n) EXPECT_GE(H5Dread(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), 0) << path;
        H5Dclose(d);
        return values;
    }
    std::vector<double> doubles(const std::string& path) const { return read<double>(path, H5T_NATIVE_DOUBLE); }
    std::vector<int64_t> ints(const std::string& path) const { return read<int64_t>(path, H5T_NATIVE_INT64); }

    template <typename T>
    T attribute(const std::string& object, const std::string& name, hid_t mem_type) const {
        T value{};
        const hid_t a = H5Aopen_by_name(m_id, object.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT);
        EXPECT_GE(a, 0) << object << " @" << name;
        EXPECT_GE(H5Aread(a, mem_type, &value), 0);
        H5Aclose(a);
        return value;
    }
    double real(const std::string& object, const std::string& name) const {
        return attribute<double>(object, name, H5T_NATIVE_DOUBLE);
    }
    int64_t integer(const std::string& object, const std::string& name) const {
        return attribute<int64_t>(object, name, H5T_NATIVE_INT64);
    }
    std::string text(const std::string& object, const std::string& name) const {
        const hid_t a = H5Aopen_by_name(m_id, object.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT);
        const hid_t type = H5Aget_type(a);
        std::string value(H5Tget_size(type), '\0');
        H5Aread(a, type, value.data());
        H5Tclose(type);
        H5Aclose(a);
        return value.substr(0, value.find('\0'));
    }

private:
    hid_t m_id;
};

std::vector<double> flatten(const json& matrix) {
    std::vector<double> flat;
    for (const json& row : matrix)
        for (double v : row.get<std::vector<double>>()) flat.push_back(v);
    return flat;
}

class ResultFileCliIntegration : public ::testing::Test {
protected:
    void SetUp() override {
        trace_file = tmp.path() / "trace.h5";
        trace_tiny_mixtral(short_corpus(tmp), trace_file);
    }
    // `verb ARGS --json -q -o OUT`: returns the JSON; OUT must exist afterwards.
    json run_with_output(const std::string& args, const fs::path& out) {
        const json j = run_json(args + " -o " + shell_quote(out));
        EXPECT_TRUE(fs::exists(out)) << out;
        return j;
    }
    void check_with_h5py(const fs::path& out, const std::string& kind) {
        const std::string python = python_with_h5py();
        if (python.empty()) {
            std::cout << "[ note ] h5py not installed: result layout not checked with h5py\n";
            return;
        }
        const fs::path script = cli_test_dir() / "result_layout_check.py";
        const std::string check = python + " " + shell_quote(script) + " " + shell_quote(out) + " " + kind;
        EXPECT_EQ(std::system(check.c_str()), 0) << check;
    }
    TempDir tmp;
    fs::path trace_file;
};

TEST_F(ResultFileCliIntegration, StatsFileHoldsTheJsonNumbers) {
    const fs::path out = tmp.path() / "stats.h5";
    const json j = run_with_output("stats " + shell_quote(trace_file) + " --top-tokens 3", out);
    const H5File f(out);
    EXPECT_EQ(f.text("/", "kind"), "stats");
    EXPECT_EQ(f.integer("/", "format_version"), 1);
    EXPECT_EQ(f.text("/", "inputs"), fs::absolute(trace_file).string());
    EXPECT_EQ(f.integer("/stats", "tokens"), k_tokens);
    EXPECT_EQ(f.integer("/stats", "router_logits"), 1);
    EXPECT_EQ(f.ints("/stats/domain_tokens"), j["domains"]["tokens"].get<std::vector<int64_t>>());
    for (int l = 0; l < k_layers; ++l) {
        const std::string g = "/stats/layer_" + std::to_string(l);
        const json& layer = j["layers"][l];
        EXPECT_EQ(f.ints(g + "/counts"), layer["counts"].get<std::vector<int64_t>>());
        EXPECT_EQ(f.doubles(g + "/fractions"), layer["fractions"].get<std::vector<double>>());
        EXPECT_EQ(f.real(g, "gini"), layer["gini"].get<double>());
        EXPECT_EQ(f.real(g, "lbl_global"), layer["router"]["lbl_global"].get<double>());
        EXPECT_EQ(f.integer(g, "repetition_pairs"), layer["repetition"]["pairs"].get<int64_t>());
        EXPECT_EQ(f.shape(g + "/domain_frequency"), (std::vector<hsize_t>{4, 8}));
        EXPECT_EQ(f.doubles(g + "/domain_frequency"), flatten(j["domains"]["layers"][l]["frequency"]));
        EXPECT_EQ(f.shape(g + "/top_token_ids"), (std::vector<hsize_t>{8, 3}));
        const auto ids = f.read<int32_t>(g + "/top_token_ids", H5T_NATIVE_INT32);
        for (int e = 0; e < k_experts; ++e)
            for (int i = 0; i < 3; ++i)
                EXPECT_EQ(ids[e * 3 + i], j["top_tokens"]["layers"][l]["experts"][e][i]["id"].get<int32_t>());
    }
    check_with_h5py(out, "stats");
}

TEST_F(ResultFileCliIntegration, AffinityPlaceAndCompareFilesHoldTheJsonNumbers) {
    const fs::path aff_out = tmp.path() / "affinity.h5", place_out = tmp.path() / "place.h5",
                   cmp_out = tmp.path() / "compare.h5", ds_out = tmp.path() / "datasets.h5";
    const json aff = run_with_output("affinity " + shell_quote(trace_file) + " --hops 2", aff_out);
    {
        const H5File f(aff_out);
        EXPECT_EQ(f.text("/affinity", "convention"), "first");
        EXPECT_EQ(f.integer("/affinity", "hops"), 2);
        for (const json& pair : aff["pairs"]) {
            const std::string g = "/affinity/pairs/" + std::to_string(pair["from_layer"].get<int>()) + "_" +
                                  std::to_string(pair["to_layer"].get<int>());
            EXPECT_EQ(f.shape(g + "/counts"), (std::vector<hsize_t>{8, 8}));
            EXPECT_EQ(f.doubles(g + "/counts"), flatten(pair["counts"]));
            EXPECT_EQ(f.doubles(g + "/conditional"), flatten(pair["conditional"]));
            EXPECT_EQ(f.doubles(g + "/markov_prediction"), flatten(pair["markov_prediction"]));
            EXPECT_EQ(f.real(g, "mutual_information"), pair["mutual_information"].get<double>());
        }
    }
    const json place = run_with_output("place " + shell_quote(trace_file) + " --gpus 4 --exact never --time-limit 1",
                                       place_out);
    {
        const H5File f(place_out);
        EXPECT_EQ(f.shape("/place/placement"), (std::vector<hsize_t>{4, 8}));
        std::vector<int32_t> expected;
        for (const json& row : place["placement"])
            for (int g : row.get<std::vector<int>>()) expected.push_back(g);
        EXPECT_EQ(f.read<int32_t>("/place/placement", H5T_NATIVE_INT32), expected);
        EXPECT_EQ(f.real("/place/evaluation", "cross_gpu_fraction"), place["cross_gpu_fraction"].get<double>());
        EXPECT_EQ(f.real("/place/baseline_evaluation", "cross_gpu_fraction"),
                  place["baseline_cross_gpu_fraction"].get<double>());
        EXPECT_EQ(f.doubles("/place/evaluation/dispatch"), flatten(place["evaluation"]["dispatch"]));
        EXPECT_EQ(f.text("/place", "method"), "affinity");
    }
    run_with_output("compare " + shell_quote(trace_file) + " " + shell_quote(trace_file), cmp_out);
    {
        const H5File f(cmp_out);
        EXPECT_EQ(f.real("/compare", "first_choice_agreement"), 1.0);
        EXPECT_EQ(f.shape("/compare/most_changed/token"), (std::vector<hsize_t>{0}));
        EXPECT_EQ(f.ints("/compare/layer_2/counts_a"), f.ints("/compare/layer_2/counts_b"));
    }
    run_with_output("compare --datasets " + shell_quote(trace_file) + " " + shell_quote(trace_file), ds_out);
    {
        const H5File f(ds_out);
        EXPECT_EQ(f.real("/compare_datasets/loads/layer_0", "tv"), 0.0);
        EXPECT_EQ(f.shape("/compare_datasets/affinity/0_1/conditional_delta"), (std::vector<hsize_t>{8, 8}));
    }
    check_with_h5py(aff_out, "affinity");
    check_with_h5py(place_out, "place");
    check_with_h5py(cmp_out, "compare");
}

std::string file_digest(const fs::path& p) { return slurp(p); }

TEST_F(ResultFileCliIntegration, NeverWritesIntoTheInputAndLeavesNothingOnFailure) {
    const std::string before = file_digest(trace_file);
    const std::string t = shell_quote(trace_file);
    for (const char* verb : {"stats ", "affinity ", "place --gpus 2 "}) {
        expect_one_error_line(run_cli(std::string(verb) + t + " -q -o " + t), "input trace");
        expect_one_error_line(run_cli(std::string(verb) + t + " -q --force -o " + t), "input trace");
    }
    // The same file under another name (symlink) is still the input.
    const fs::path link = tmp.path() / "link.h5";
    fs::create_symlink(trace_file, link);
    expect_one_error_line(run_cli("stats " + t + " -q -o " + shell_quote(link)), "input trace");
    expect_one_error_line(run_cli("compare " + t + " " + t + " -q -o " + t), "input trace");
    EXPECT_EQ(file_digest(trace_file), before);

    // An existing OUT needs --force; with it the file is replaced by a stats result.
    const fs::path out = tmp.path() / "out.h5";
    std::ofstream(out) << "old";
    expect_one_error_line(run_cli("stats " + t + " -q -o " + shell_quote(out)), "already exists");
    EXPECT_EQ(slurp(out), "old");
    ASSERT_EQ(run_cli("stats " + t + " -q --force -o " + shell_quote(out)).exit_code, 0);
    EXPECT_EQ(H5File(out).text("/", "kind"), "stats");
    // A result file is not a trace.
    expect_one_error_line(run_cli("stats " + shell_quote(out) + " -q"), "not a Switchyard trace");

    // A failing analysis leaves neither OUT nor its temporary file.
    const fs::path failed = tmp.path() / "failed.h5";
    expect_one_error_line(run_cli("place " + t + " --gpus 3 -q -o " + shell_quote(failed)), "3");
    EXPECT_FALSE(fs::exists(failed));
    for (const auto& entry : fs::directory_iterator(tmp.path()))
        EXPECT_EQ(entry.path().filename().string().find(".partial"), std::string::npos) << entry.path();
    expect_one_error_line(run_cli("stats " + t + " -q -o " + shell_quote(tmp.path() / "no" / "dir.h5")), "does not exist");
}

}  // namespace
