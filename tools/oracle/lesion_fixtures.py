"""Expected values of the lesion-level tests (crates/kizon-cli/tests/lesions.rs), computed
directly from the definitions, independently of kizon:

- matching: marks highest rating first, each credits the nearest uncredited lesion within
  the radius (Chakraborty's convention; a mark on an already credited lesion is discarded);
- AFROC (JAFROC) and weighted AFROC figures of merit as the double sums of Chakraborty &
  Berbaum (2004), psi(x, y) = 1 if y > x, 1/2 if equal, 0 otherwise;
- the ratio-estimator interval clustered by case (Obuchowski 1998);
- Wilson intervals from statsmodels (proportion_confint(method="wilson")).

Run: /tmp/kizon-peers-venv/bin/python tools/oracle/lesion_fixtures.py
"""

import json
import math

from statsmodels.stats.proportion import proportion_confint

Z = 1.959963984540054
NEG_INF = float("-inf")


def psi(x, y):
    return 1.0 if y > x else 0.5 if y == x else 0.0


def evaluate(cases, lesions, marks, radius):
    """cases: {case: images}; lesions: [(case, x, y)]; marks: [(case, x, y, rating)]."""
    rating = [NEG_INF] * len(lesions)
    credited = [False] * len(lesions)
    nl = {c: [] for c in cases}
    hits = []
    for case, mx, my, r in sorted(marks, key=lambda m: -m[3]):
        best = None
        for i, (lc, lx, ly) in enumerate(lesions):
            d = math.hypot(mx - lx, my - ly)
            if lc == case and d <= radius and not credited[i] and (best is None or d < best[0]):
                best = (d, i)
        eligible = any(lc == case and math.hypot(mx - lx, my - ly) <= radius
                       for lc, lx, ly in lesions)
        if best:
            credited[best[1]] = True
            rating[best[1]] = r
            hits.append(best[0])
        elif not eligible:
            nl[case].append(r)
    per_case = {c: [i for i, l in enumerate(lesions) if l[0] == c] for c in cases}
    normal = [c for c in cases if not per_case[c]]
    abnormal = [c for c in cases if per_case[c]]
    fp = {c: max(nl[c], default=NEG_INF) for c in normal}
    theta = sum(psi(fp[k], rating[l]) for k in normal for l in range(len(lesions)))
    theta /= len(normal) * len(lesions)
    theta_w = sum(psi(fp[k], rating[l]) / len(per_case[j])
                  for k in normal for j in abnormal for l in per_case[j])
    theta_w /= len(normal) * len(abnormal)

    def ratio(x, m):
        p = sum(x) / sum(m)
        k = len(x)
        var = k / (k - 1) * sum((xi - p * mi) ** 2 for xi, mi in zip(x, m)) / sum(m) ** 2
        return p, p - Z * math.sqrt(var), p + Z * math.sqrt(var)

    llf = ratio([sum(rating[i] > NEG_INF for i in per_case[c]) for c in abnormal],
                [len(per_case[c]) for c in abnormal])
    fpi = ratio([len(nl[c]) for c in cases], [cases[c] for c in cases])
    sens = sum(any(rating[i] > NEG_INF for i in per_case[c]) or bool(nl[c]) for c in abnormal)
    spec = sum(not nl[c] for c in normal)
    return {
        "afroc": theta,
        "wafroc": theta_w,
        "lesion_sensitivity": llf,
        "fp_per_image": fpi,
        "case_sensitivity": [sens / len(abnormal),
                             *proportion_confint(sens, len(abnormal), method="wilson")],
        "case_specificity": [spec / len(normal),
                             *proportion_confint(spec, len(normal), method="wilson")],
        "mean_distance": sum(hits) / len(hits),
    }


# stats_froc_on_two_csv_files_gives_the_hand_computed_figures
print(json.dumps(evaluate(
    {"A": 1, "B": 1, "C": 1, "D": 1},
    [("A", 10, 10), ("A", 50, 50), ("B", 20, 20)],
    [("A", 11, 10, 0.9), ("A", 80, 80, 0.4), ("B", 20, 22, 0.6), ("B", 21, 21, 0.3),
     ("C", 5, 5, 0.5)],
    5.0), indent=1))

# panel_marks_become_locked_lesions_...: the panel's lesions at the cluster means
print(json.dumps(evaluate(
    {f"C0{n}": 1 for n in range(1, 7)},
    [("C01", 32 / 3, 11), ("C01", 50, 50), ("C02", 30.5, 30.5), ("C03", 21, 20.5)],
    [("C01", 11, 10, 0.9), ("C01", 80, 80, 0.4), ("C02", 30, 32, 0.6), ("C04", 5, 5, 0.5)],
    5.0), indent=1))
