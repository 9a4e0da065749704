#!/usr/bin/env python3
"""Expected values for kizon-stats from independent implementations (scipy, statsmodels,
scikit-learn), written as JSON into crates/kizon-stats/tests/fixtures/ and committed, so
the Rust tests need neither Python nor R. Every fixture records the library versions.

The R oracles (pROC, epiR, psych, boot) are in stats_fixtures.R beside this file; this
script runs it after writing the data sets it reads, and then reads back the aSAH data
set it exports.

Setup:  python3 -m venv /tmp/oracle-venv
        /tmp/oracle-venv/bin/pip install numpy scipy statsmodels scikit-learn
        apt-get install r-base-core r-cran-proc r-cran-epir r-cran-psych r-cran-boot
Run:    /tmp/oracle-venv/bin/python tools/oracle/make_stats_fixtures.py
"""
import csv
import json
import math
import pathlib
import subprocess

import numpy as np
import scipy
import sklearn
import statsmodels
from scipy import stats
from sklearn.datasets import load_breast_cancer
from sklearn.metrics import roc_auc_score, roc_curve
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.inter_rater import cohens_kappa, fleiss_kappa
from statsmodels.stats.proportion import proportion_confint

FIXTURES = pathlib.Path(__file__).resolve().parents[2] / "crates/kizon-stats/tests/fixtures"
VERSIONS = {"python": "numpy %s, scipy %s, statsmodels %s, scikit-learn %s"
            % (np.__version__, scipy.__version__, statsmodels.__version__, sklearn.__version__)}
METHODS = {"wilson": "wilson", "clopper-pearson": "beta", "agresti-coull": "agresti_coull",
           "jeffreys": "jeffreys"}


def write(name, source, cases, **extra):
    doc = {"source": source, "versions": VERSIONS, **extra, "cases": cases}
    (FIXTURES / name).write_text(json.dumps(doc, indent=1) + "\n")
    print(f"{name}: {len(cases)} cases")


def distributions():
    cases = []
    for p in [1e-300, 1e-100, 1e-20, 1e-10, 1e-5, 0.001, 0.0125, 0.025, 0.05, 0.1, 0.3, 0.5,
              0.7, 0.9, 0.95, 0.975, 0.999, 1 - 1e-10]:
        cases.append({"fn": "normal_quantile", "args": [p], "value": float(stats.norm.ppf(p))})
    for z in [-37.0, -20.0, -8.0, -3.0, -1.96, -0.5, 0.0, 0.3, 1.0, 2.5, 6.0]:
        cases.append({"fn": "normal_cdf", "args": [z], "value": float(stats.norm.cdf(z))})
    for x in [1e-6, 0.5, 1.0, 3.84, 10.0, 50.0, 200.0]:
        cases.append({"fn": "chi_square_1_sf", "args": [x], "value": float(stats.chi2.sf(x, 1))})
    for a, b in [(0.5, 0.5), (0.5, 20.5), (1, 1), (1, 30), (2, 19999), (3, 7), (50, 50),
                 (200, 2), (2500, 120), (0.5, 1e4 + 0.5), (19999, 2)]:
        for p in [1e-12, 1e-6, 0.005, 0.025, 0.5, 0.975, 0.995]:
            cases.append({"fn": "beta_quantile", "args": [p, a, b], "value": float(stats.beta.ppf(p, a, b))})
        for q in [0.001, 0.1, 0.5, 0.9, 0.999]:
            x = float(stats.beta.ppf(q, a, b))
            cases.append({"fn": "beta_cdf", "args": [x, a, b], "value": float(stats.beta.cdf(x, a, b))})
    for k, n, p in [(0, 10, 0.3), (3, 10, 0.3), (9, 10, 0.3), (10, 10, 0.3), (480, 500, 0.93),
                    (2, 20000, 1e-4), (50, 100, 0.5), (5, 50, 0.5)]:
        cases.append({"fn": "binomial_cdf", "args": [k, n, p], "value": float(stats.binom.cdf(k, n, p))})
    write("distributions_scipy.json", "scipy.stats norm/beta/chi2/binom", cases)


def proportions():
    cases = []
    grid = [(0, 1), (1, 1), (0, 10), (1, 10), (5, 10), (9, 10), (10, 10), (1, 30), (29, 30),
            (17, 40), (81, 263), (670, 744), (640, 842), (3, 20000), (19990, 20000), (500, 1000)]
    for x, n in grid:
        for level in [0.8, 0.9, 0.95, 0.99, 0.999]:
            for ours, sm in METHODS.items():
                lo, hi = proportion_confint(x, n, alpha=1 - level, method=sm)
                cases.append({"x": x, "n": n, "level": level, "method": ours,
                              "estimate": x / n, "lower": float(lo), "upper": float(hi)})
    write("proportion_ci_statsmodels.json", "statsmodels.stats.proportion.proportion_confint", cases,
          note="jeffreys at x = 0 / x = n: statsmodels has no Brown-Cai-DasGupta boundary rule; "
               "the test checks only the non-boundary side there")


def datasets():
    """Data sets the R oracle reads too: breast cancer (scikit-learn) and tied ratings."""
    bc = load_breast_cancer()
    radius = list(bc.feature_names).index("mean radius")
    texture = list(bc.feature_names).index("mean texture")
    with open(FIXTURES / "breast_cancer.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["malignant", "mean_radius", "mean_texture"])
        for row, target in zip(bc.data, bc.target):
            w.writerow([int(target == 0), repr(float(row[radius])), repr(float(row[texture]))])
    # Two readers scoring 1..5 on 200 cases (heavy ties), three observations per patient
    # at most, for the tie, paired and cluster tests.
    rng = np.random.default_rng(7)
    truth = rng.random(200) < 0.35
    latent = rng.normal(size=200) + 1.2 * truth
    cuts = [-0.5, 0.2, 0.8, 1.4]
    reader1 = 1 + np.searchsorted(cuts, latent)
    reader2 = 1 + np.searchsorted(cuts, 0.7 * latent + 0.7 * rng.normal(size=200))
    patient = np.sort(rng.integers(0, 90, size=200))
    with open(FIXTURES / "tied_ratings.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["truth", "reader1", "reader2", "patient"])
        for row in zip(truth.astype(int), reader1, reader2, patient):
            w.writerow([int(v) for v in row])
    # Replicates and influence values for the boot::bca.ci comparison.
    sets = {"t0": [], "t": [], "L": []}
    for b, shift in [(999, 0.01), (2000, -0.005)]:
        t = 0.8 + 0.05 * rng.standard_gamma(3.0, size=b) / 3.0 - 0.05 + shift
        sets["t0"].append(0.8)
        sets["t"].append([float(v) for v in t])
        sets["L"].append([float(v) for v in rng.standard_gamma(2.0, size=150) - 2.0])
    (FIXTURES / "bootstrap_inputs.json").write_text(json.dumps({"sets": sets}) + "\n")


def read_csv(name):
    with open(FIXTURES / name) as fh:
        return list(csv.DictReader(fh))


def roc_sklearn():
    specs = [("aSAH.csv", "outcome", "Poor", ["s100b", "ndka", "wfns"]),
             ("breast_cancer.csv", "malignant", "1", ["mean_radius", "mean_texture"]),
             ("tied_ratings.csv", "truth", "1", ["reader1", "reader2"])]
    cases = []
    for file, truth_col, positive, cols in specs:
        rows = read_csv(file)
        truth = np.array([r[truth_col] == positive for r in rows])
        for col in cols:
            score = np.array([float(r[col]) for r in rows])
            fpr, tpr, thr = roc_curve(truth, score, drop_intermediate=False)
            cases.append({"data": file, "score": col, "auc": float(roc_auc_score(truth, score)),
                          "thresholds": [None if math.isinf(t) else float(t) for t in thr],
                          "fpr": fpr.tolist(), "tpr": tpr.tolist()})
    write("roc_sklearn.json", "sklearn.metrics roc_auc_score, roc_curve(drop_intermediate=False)", cases)


KAPPA_TABLES = [
    [[40, 5], [4, 171]],
    [[22, 5, 2], [3, 17, 6], [1, 4, 40]],
    [[11, 3, 1, 0], [2, 14, 4, 1], [0, 3, 18, 5], [1, 0, 4, 13]],
]


def kappa_statsmodels():
    cases = []
    for table in KAPPA_TABLES:
        for wt in [None, "linear", "quadratic"]:
            r = cohens_kappa(np.array(table), wt=wt)  # intervals at 95% only
            cases.append({"table": table, "weights": wt or "unweighted", "level": 0.95,
                          "kappa": float(r.kappa), "se": float(r.std_kappa),
                          "lower": float(r.kappa_low), "upper": float(r.kappa_upp)})
    write("kappa_statsmodels.json", "statsmodels.stats.inter_rater.cohens_kappa (std_kappa, kappa_low/upp)", cases)
    fleiss = json.loads((FIXTURES / "fleiss_irr_formula.json").read_text())
    cases = [{"counts": c["counts"], "kappa": float(fleiss_kappa(np.array(c["counts"]), method="fleiss"))}
             for c in fleiss["cases"]]
    write("fleiss_statsmodels.json", "statsmodels.stats.inter_rater.fleiss_kappa(method='fleiss')", cases)


PAIRED_TABLES = [(30, 12, 4, 54), (12, 9, 2, 21), (50, 0, 0, 10), (8, 3, 11, 6), (0, 1, 0, 0),
                 (200, 25, 16, 59), (5, 0, 7, 2)]


def mcnemar_statsmodels():
    cases = []
    for a, b, c, d in PAIRED_TABLES:
        table = [[a, b], [c, d]]
        exact = mcnemar(table, exact=True)
        case = {"table": [a, b, c, d], "exact_p_value": float(exact.pvalue)}
        if b + c > 0:
            plain = mcnemar(table, exact=False, correction=False)
            corrected = mcnemar(table, exact=False, correction=True)
            case.update(chi_square=float(plain.statistic), p_value=float(plain.pvalue),
                        chi_square_corrected=float(corrected.statistic),
                        p_value_corrected=float(corrected.pvalue))
        cases.append(case)
    write("mcnemar_statsmodels.json", "statsmodels.stats.contingency_tables.mcnemar", cases,
          note="asymptotic values omitted where b + c = 0 (statsmodels gives NaN)")


def newcombe_paired(a, b, c, d, level):
    """Newcombe (1998, Stat Med 17:2635) method 10, re-typed from the paper's formulas."""
    n = a + b + c + d
    p1, p2 = (a + b) / n, (a + c) / n
    l1, u1 = proportion_confint(a + b, n, alpha=1 - level, method="wilson")
    l2, u2 = proportion_confint(a + c, n, alpha=1 - level, method="wilson")
    denom = (a + b) * (c + d) * (a + c) * (b + d)
    cross = a * d - b * c
    if denom == 0:
        phi = 0.0
    elif cross > n / 2:
        phi = (cross - n / 2) / math.sqrt(denom)
    elif cross < 0:
        phi = cross / math.sqrt(denom)
    else:
        phi = 0.0
    theta = (b - c) / n
    dl = math.sqrt((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2)
    du = math.sqrt((u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2)
    return [theta, max(-1.0, theta - dl), min(1.0, theta + du)]


def paired_and_youden():
    cases = [{"table": list(t), "level": level, "difference": newcombe_paired(*t, level)}
             for t in PAIRED_TABLES if sum(t) > 0 for level in [0.95, 0.9]]
    write("newcombe_paired.json", "Newcombe 1998 method 10 in Python on statsmodels Wilson bounds", cases,
          reference="Newcombe RG. Improved confidence intervals for the difference between binomial "
                    "proportions based on paired data. Stat Med 1998;17:2635-50")
    cases = []
    for tp, fp, fn, tn in [(670, 202, 74, 640), (9, 3, 2, 17), (44, 1, 1, 168), (20, 0, 5, 30)]:
        for ours, sm in METHODS.items():
            se = (tp / (tp + fn), *proportion_confint(tp, tp + fn, alpha=0.05, method=sm))
            sp = (tn / (tn + fp), *proportion_confint(tn, tn + fp, alpha=0.05, method=sm))
            if ours == "jeffreys":  # Brown-Cai-DasGupta boundary rule, as kizon applies it
                se = (se[0], 0.0 if tp == 0 else se[1], 1.0 if fn == 0 else se[2])
                sp = (sp[0], 0.0 if tn == 0 else sp[1], 1.0 if fp == 0 else sp[2])
            j = se[0] + sp[0] - 1
            lo = j - math.hypot(se[0] - se[1], sp[0] - sp[1])
            hi = j + math.hypot(se[2] - se[0], sp[2] - sp[0])
            cases.append({"tp": tp, "fp": fp, "fn": fn, "tn": tn, "method": ours, "level": 0.95,
                          "youden": [j, max(-1.0, lo), min(1.0, hi)]})
    write("youden_mover.json", "Youden's J MOVER (Newcombe 1998 method 10) on statsmodels proportion bounds", cases)


def exact_power(n, p0, p1, level, sm_method):
    x = np.arange(n + 1)
    lower, _ = proportion_confint(x, n, alpha=1 - level, method=sm_method)
    hits = x[lower > p0]
    return (0.0, None) if hits.size == 0 else (float(stats.binom.sf(hits[0] - 1, n, p1)), int(hits[0]))


def sample_size_exact():
    cases = []
    for p0, p1, level, power, ci in [(0.8, 0.9, 0.95, 0.8, "clopper-pearson"), (0.8, 0.9, 0.95, 0.8, "wilson"),
                                     (0.9, 0.97, 0.95, 0.9, "clopper-pearson"), (0.7, 0.85, 0.9, 0.8, "jeffreys"),
                                     (0.95, 0.99, 0.95, 0.8, "clopper-pearson"),
                                     (0.75, 0.9, 0.95, 0.8, "agresti-coull")]:
        za, zb = stats.norm.ppf(0.5 + level / 2), stats.norm.ppf(power)
        normal = ((za * math.sqrt(p0 * (1 - p0)) + zb * math.sqrt(p1 * (1 - p1))) / (p1 - p0)) ** 2
        limit = int(2 * math.ceil(normal) + 100)
        powers = [exact_power(n, p0, p1, level, METHODS[ci]) for n in range(1, limit + 1)]
        ok = [p >= power for p, _ in powers]
        first = ok.index(True) + 1
        stable = max(i for i, v in enumerate(ok) if not v) + 2
        cases.append({"p0": p0, "p1": p1, "level": level, "power": power, "ci": ci, "search_limit": limit,
                      "n": stable, "first_n": first, "power_at_n": powers[stable - 1][0],
                      "critical_successes": powers[stable - 1][1],
                      "powers": [p for p, _ in powers[: min(limit, stable + 20)]]})
    write("sample_size_exact.json", "brute-force exact binomial power over statsmodels interval bounds "
          "and scipy.stats.binom", cases)


def auc_sample_size_formula():
    def se_binormal(theta, nd, ratio, b):
        a = stats.norm.ppf(theta) * math.sqrt(1 + b * b)
        e = math.exp(-a * a / (2 * (1 + b * b)))
        f = e / math.sqrt(2 * math.pi * (1 + b * b))
        g = -a * b * e / math.sqrt(2 * math.pi * (1 + b * b) ** 3)
        v = f * f * (1 + b * b / ratio + a * a / 2) + g * g * (b * b * (1 + ratio) / (2 * ratio))
        return math.sqrt(v / nd)

    def se_hanley(theta, nd, nn):
        q1, q2 = theta / (2 - theta), 2 * theta ** 2 / (1 + theta)
        return math.sqrt((theta * (1 - theta) + (nd - 1) * (q1 - theta ** 2) + (nn - 1) * (q2 - theta ** 2)) / (nd * nn))

    cases = []
    for auc0, auc1, alpha, power, ratio in [(0.5, 0.7, 0.05, 0.8, 1.0), (0.5, 0.8, 0.05, 0.8, 2.5),
                                            (0.75, 0.85, 0.025, 0.8, 1.0), (0.8, 0.9, 0.025, 0.9, 3.0),
                                            (0.7, 0.75, 0.05, 0.8, 1.5)]:
        za, zb = stats.norm.ppf(1 - alpha), stats.norm.ppf(power)
        for model, b in [("binormal", 1.0), ("binormal", 0.7), ("hanley-mcneil", None)]:
            nd = 1
            while True:
                nn = max(1, math.ceil(ratio * nd - 1e-9))
                if model == "binormal":
                    se0, se1 = se_binormal(auc0, nd, ratio, b), se_binormal(auc1, nd, ratio, b)
                else:
                    se0, se1 = se_hanley(auc0, nd, nn), se_hanley(auc1, nd, nn)
                if auc1 - auc0 - za * se0 >= zb * se1:
                    break
                nd += 1
            cases.append({"auc0": auc0, "auc1": auc1, "alpha": alpha, "power": power, "ratio": ratio,
                          "model": model, "b": b, "diseased": nd, "non_diseased": nn,
                          "achieved_power": float(stats.norm.cdf((auc1 - auc0 - za * se0) / se1))})
    write("auc_sample_size_formula.json", "Obuchowski 1997 binormal and Hanley-McNeil 1982 variances, "
          "linear search in Python with scipy", cases)


def main():
    FIXTURES.mkdir(parents=True, exist_ok=True)
    distributions()
    proportions()
    datasets()
    subprocess.run(["Rscript", str(pathlib.Path(__file__).with_name("stats_fixtures.R")), str(FIXTURES)],
                   check=True)
    roc_sklearn()
    kappa_statsmodels()
    mcnemar_statsmodels()
    paired_and_youden()
    sample_size_exact()
    auc_sample_size_formula()


if __name__ == "__main__":
    main()
