// Exact affinity placement as a MIP solved by GLPK (Debian libglpk-dev). The ExFlow token-level
// program (analysis.md 1.1 "Integer program") aggregated over tokens, which is exact because a
// transition's cost depends only on its expert pair ("Scaling note"):
//   x[l,e,g] in {0,1}      expert e of MoE layer l on GPU g
//   z[l,i,j] >= x[l,i,g] - x[l+1,j,g]   for all g         (1 when i and j are on different GPUs)
//   u[l,i,j] >= X[l,i,n] - X[l+1,j,n]   for all nodes n   (X = sum of x over the node's GPUs)
//   sum_g x[l,e,g] = 1,  sum_e x[l,e,g] = E_l / G
//   minimise sum w[l,i,j] (z + u)       (hop cost 0 / 1 / 2, as in Placement::hop_cost)
// Expert 0 of the first MoE layer is fixed to GPU 0 (GPU labels are symmetric), and the
// heuristic placement is handed to the branch and bound as its first incumbent.
#include <glpk.h>

#include <algorithm>
#include <array>
#include <memory>
#include <numeric>

#include "placement_internal.h"

namespace sy::analysis::placement_detail {

namespace {

struct ProblemDeleter {
    void operator()(glp_prob* p) const { glp_delete_prob(p); }
};

struct Model {
    std::unique_ptr<glp_prob, ProblemDeleter> lp{glp_create_prob()};
    std::vector<std::vector<int>> x_col;   // [Lm][E_l * G] column of x[l,e,g]
    std::vector<int> row_i, col_j;         // constraint triplets (1-based, index 0 unused)
    std::vector<double> value;
    int nodes = 1;

    int add_row(int type, double bound) {
        const int r = glp_add_rows(lp.get(), 1);
        glp_set_row_bnds(lp.get(), r, type, bound, bound);
        return r;
    }
    void put(int r, int c, double v) {
        row_i.push_back(r);
        col_j.push_back(c);
        value.push_back(v);
    }
};

// Relabels GPUs so that expert 0 of layer 0 sits on GPU 0, keeping every hop cost: the node
// blocks of GPU 0 and of its GPU swap, then the two GPUs inside node 0.
Placement canonical(const Placement& start) {
    const int per_node = start.gpus / start.nodes, g0 = start.gpu_of_expert[0][0];
    std::vector<int> map(static_cast<size_t>(start.gpus));
    std::iota(map.begin(), map.end(), 0);
    const int n0 = start.node_of(g0);
    for (int s = 0; s < per_node; ++s) std::swap(map[s], map[n0 * per_node + s]);
    const int local = g0 % per_node;
    for (int& m : map) {
        if (m == 0) m = local;
        else if (m == local) m = 0;
    }
    Placement out = start;
    for (auto& layer : out.gpu_of_expert)
        for (int& g : layer) g = map[g];
    return out;
}

void add_assignment_rows(const PlacementProblem& p, Model& m, int gpus) {
    for (int l = 0; l < p.shape.layer_count(); ++l) {
        const int experts = p.shape.num_experts[l];
        for (int e = 0; e < experts; ++e) {
            const int r = m.add_row(GLP_FX, 1.0);
            for (int g = 0; g < gpus; ++g) m.put(r, m.x_col[l][e * gpus + g], 1.0);
        }
        for (int g = 0; g < gpus; ++g) {
            const int r = m.add_row(GLP_FX, static_cast<double>(experts / gpus));
            for (int e = 0; e < experts; ++e) m.put(r, m.x_col[l][e * gpus + g], 1.0);
        }
    }
}

// One crossing variable with rows var >= sum_{g in block} x[l,i,g] - x[l+1,j,g] per block.
int add_crossing(const PlacementProblem& p, Model& m, int l, int i, int j, double w, int blocks, int gpus) {
    const int c = glp_add_cols(m.lp.get(), 1);
    glp_set_col_bnds(m.lp.get(), c, GLP_DB, 0.0, 1.0);
    glp_set_obj_coef(m.lp.get(), c, w);
    const int per_block = gpus / blocks;
    for (int b = 0; b < blocks; ++b) {
        const int r = m.add_row(GLP_LO, 0.0);
        m.put(r, c, 1.0);
        for (int g = b * per_block; g < (b + 1) * per_block; ++g) {
            m.put(r, m.x_col[l][i * gpus + g], -1.0);
            m.put(r, m.x_col[l + 1][j * gpus + g], 1.0);
        }
    }
    return c;
}

struct Callback {
    std::vector<double> start;   // 1-based column values of the warm start
    bool given = false;
    const CancelToken* cancel = nullptr;
    bool cancelled = false;
};

void callback(glp_tree* tree, void* info) {
    auto* cb = static_cast<Callback*>(info);
    if (cb->cancel->cancelled()) {
        cb->cancelled = true;
        glp_ios_terminate(tree);
        return;
    }
    if (glp_ios_reason(tree) == GLP_IHEUR && !cb->given) {
        cb->given = true;
        glp_ios_heur_sol(tree, cb->start.data());
    }
}

// Column values of `pl` (z / u = 1 exactly where the pair crosses GPUs / nodes).
std::vector<double> start_vector(const PlacementProblem& p, const Model& m, const Placement& pl,
                                 const std::vector<std::array<int, 5>>& crossings) {
    std::vector<double> v(static_cast<size_t>(glp_get_num_cols(m.lp.get())) + 1, 0.0);
    for (int l = 0; l < p.shape.layer_count(); ++l)
        for (int e = 0; e < p.shape.num_experts[l]; ++e) v[m.x_col[l][e * pl.gpus + pl.gpu_of_expert[l][e]]] = 1.0;
    for (const auto& c : crossings) {   // {l, i, j, z column, u column or 0}
        const int a = pl.gpu_of_expert[c[0]][c[1]], b = pl.gpu_of_expert[c[0] + 1][c[2]];
        v[c[3]] = a != b ? 1.0 : 0.0;
        if (c[4]) v[c[4]] = pl.node_of(a) != pl.node_of(b) ? 1.0 : 0.0;
    }
    return v;
}

}  // namespace

Placement solve_mip(const PlacementProblem& p, const Placement& start_in, double time_limit_s,
                    const CancelToken& cancel, bool& optimal) {
    optimal = false;
    const Placement start = canonical(start_in);
    const int gpus = start.gpus;
    Model m;
    glp_set_obj_dir(m.lp.get(), GLP_MIN);
    for (int l = 0; l < p.shape.layer_count(); ++l) {
        const int n = p.shape.num_experts[l] * gpus;
        const int first = glp_add_cols(m.lp.get(), n);
        std::vector<int> cols(static_cast<size_t>(n));
        for (int c = 0; c < n; ++c) {
            cols[c] = first + c;
            glp_set_col_kind(m.lp.get(), first + c, GLP_BV);
        }
        m.x_col.push_back(std::move(cols));
    }
    glp_set_col_bnds(m.lp.get(), m.x_col[0][0], GLP_FX, 1.0, 1.0);
    m.row_i.push_back(0), m.col_j.push_back(0), m.value.push_back(0);
    add_assignment_rows(p, m, gpus);
    std::vector<std::array<int, 5>> crossings;
    for (int l = 0; l + 1 < p.shape.layer_count(); ++l)
        for (int i = 0; i < p.shape.num_experts[l]; ++i)
            for (int j = 0; j < p.shape.num_experts[l + 1]; ++j) {
                const double w = weight(p, l, i, j);
                if (w <= 0) continue;
                const int z = add_crossing(p, m, l, i, j, w, gpus, gpus);
                const int u = start.nodes > 1 ? add_crossing(p, m, l, i, j, w, start.nodes, gpus) : 0;
                crossings.push_back({l, i, j, z, u});
            }
    glp_load_matrix(m.lp.get(), static_cast<int>(m.value.size()) - 1, m.row_i.data(), m.col_j.data(), m.value.data());

    glp_smcp lp_parm;
    glp_init_smcp(&lp_parm);
    lp_parm.msg_lev = GLP_MSG_OFF;
    if (glp_simplex(m.lp.get(), &lp_parm) != 0) return start_in;
    Callback cb;
    cb.start = start_vector(p, m, start, crossings);
    cb.cancel = &cancel;
    glp_iocp parm;
    glp_init_iocp(&parm);
    parm.msg_lev = GLP_MSG_OFF;
    parm.tm_lim = static_cast<int>(std::max(1.0, time_limit_s * 1000.0));
    parm.cb_func = callback;
    parm.cb_info = &cb;
    glp_intopt(m.lp.get(), &parm);
    if (cb.cancelled) cancel.throw_if_cancelled();
    const int status = glp_mip_status(m.lp.get());
    if (status != GLP_OPT && status != GLP_FEAS) return start_in;
    optimal = status == GLP_OPT;
    Placement out = start;
    for (int l = 0; l < p.shape.layer_count(); ++l)
        for (int e = 0; e < p.shape.num_experts[l]; ++e)
            for (int g = 0; g < gpus; ++g)
                if (glp_mip_col_val(m.lp.get(), m.x_col[l][e * gpus + g]) > 0.5) out.gpu_of_expert[l][e] = g;
    return placement_cost(p, out) <= placement_cost(p, start_in) ? out : start_in;
}

}  // namespace sy::analysis::placement_detail
