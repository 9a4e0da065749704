#!/usr/bin/env Rscript
# R oracles for kizon-stats: pROC (DeLong CI and paired test, power.roc.test), epiR
# (epi.tests), psych (cohen.kappa), boot (percentile and BCa intervals). Also exports
# pROC's aSAH data set. Run by make_stats_fixtures.py (which first writes the CSV and
# JSON inputs this script reads); Debian: r-base-core r-cran-proc r-cran-epir
# r-cran-psych r-cran-boot (jsonlite comes with them).
suppressMessages({
  library(pROC); library(epiR); library(psych); library(boot); library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
dir <- if (length(args) > 0) args[1] else "crates/kizon-stats/tests/fixtures"
pkgs <- c("pROC", "epiR", "psych", "boot", "jsonlite")
versions <- list(r = paste(R.version$major, R.version$minor, sep = "."),
                 packages = setNames(lapply(pkgs, function(p) as.character(packageVersion(p))), pkgs))
out <- function(name, source, cases, ...) {
  doc <- c(list(source = source, versions = versions), list(...), list(cases = cases))
  write_json(doc, file.path(dir, name), auto_unbox = TRUE, digits = NA, pretty = TRUE)
  cat(sprintf("%s: %d cases\n", name, length(cases)))
}

# --- aSAH export --------------------------------------------------------------------
data(aSAH)
write.csv(data.frame(outcome = as.character(aSAH$outcome), gender = as.character(aSAH$gender),
                     age = aSAH$age, wfns = as.integer(aSAH$wfns), s100b = aSAH$s100b,
                     ndka = aSAH$ndka),
          file.path(dir, "aSAH.csv"), row.names = FALSE)

# --- DeLong: single AUCs and paired tests ------------------------------------------
read_set <- function(file, truth_col, positive) {
  d <- read.csv(file.path(dir, file))
  list(d = d, truth = as.character(d[[truth_col]]) == positive)
}
sets <- list(
  aSAH = read_set("aSAH.csv", "outcome", "Poor"),
  breast_cancer = read_set("breast_cancer.csv", "malignant", "1"),
  tied_ratings = read_set("tied_ratings.csv", "truth", "1")
)
scores <- list(aSAH = c("s100b", "ndka", "wfns"), breast_cancer = c("mean_radius", "mean_texture"),
               tied_ratings = c("reader1", "reader2"))
mkroc <- function(s, col) roc(s$truth, s$d[[col]], levels = c(FALSE, TRUE), direction = "<", quiet = TRUE)
single <- list(); paired <- list()
for (set in names(sets)) {
  s <- sets[[set]]
  for (col in scores[[set]]) {
    r <- mkroc(s, col)
    for (level in c(0.95, 0.9)) {
      ci <- ci.auc(r, method = "delong", conf.level = level)
      single[[length(single) + 1]] <- list(data = set, score = col, level = level,
        auc = as.numeric(r$auc), lower = ci[1], upper = ci[3], se = sqrt(var(r, method = "delong")))
    }
  }
  cols <- scores[[set]]
  for (i in 1:(length(cols) - 1)) for (j in (i + 1):length(cols)) {
    t <- roc.test(mkroc(s, cols[i]), mkroc(s, cols[j]), method = "delong", paired = TRUE)
    paired[[length(paired) + 1]] <- list(data = set, score1 = cols[i], score2 = cols[j],
      auc1 = as.numeric(t$estimate[1]), auc2 = as.numeric(t$estimate[2]), z = as.numeric(t$statistic),
      p_value = t$p.value, lower = t$conf.int[1], upper = t$conf.int[2])
  }
}
out("delong_proc.json", "pROC ci.auc(method = 'delong'), var(roc)", single)
out("delong_test_proc.json", "pROC roc.test(method = 'delong', paired = TRUE), 95% conf.int", paired)

# pROC's own stratified bootstrap on aSAH s100b: random, so compared loosely.
set.seed(20261125)
b <- ci.auc(mkroc(sets$aSAH, "s100b"), method = "bootstrap", boot.n = 10000, boot.stratified = TRUE,
            progress = "none")
out("bootstrap_proc_asah.json", "pROC ci.auc(method = 'bootstrap', boot.n = 10000, stratified); random",
    list(list(data = "aSAH", score = "s100b", level = 0.95, lower = b[1], upper = b[3])))

# --- boot: percentile and BCa from fixed replicates and influence values ------------
inputs <- fromJSON(file.path(dir, "bootstrap_inputs.json"), simplifyMatrix = FALSE)  # keep one vector per set
boot_cases <- list()
for (k in seq_along(inputs$sets$t0)) {
  t <- inputs$sets$t[[k]]; t0 <- inputs$sets$t0[k]; L <- inputs$sets$L[[k]]
  for (level in c(0.95, 0.9)) {
    fake <- list(t = matrix(t, ncol = 1), t0 = t0, R = length(t))
    bca <- boot:::bca.ci(fake, conf = level, t0 = t0, t = t, L = L)
    perc <- boot:::perc.ci(t, conf = level)
    boot_cases[[length(boot_cases) + 1]] <- list(set = k - 1, level = level, t0 = t0,
      bca = c(bca[4], bca[5]), percentile = c(perc[4], perc[5]))
  }
}
out("bootstrap_boot.json", "boot:::bca.ci and boot:::perc.ci on the replicates in bootstrap_inputs.json",
    boot_cases)

# --- epiR: binary 2x2 ----------------------------------------------------------------
tables <- list(c(670, 202, 74, 640), c(9, 3, 2, 17), c(44, 1, 1, 168), c(120, 30, 15, 835))
epi_methods <- c(wilson = "wilson", `clopper-pearson` = "clopper-pearson", `agresti-coull` = "agresti",
                 jeffreys = "jeffreys")
epi_cases <- list()
for (tab in tables) for (m in names(epi_methods)) {
  r <- epi.tests(as.table(matrix(tab, nrow = 2, byrow = TRUE)), method = epi_methods[[m]], conf.level = 0.95)$detail
  row <- function(stat) { x <- r[r$statistic == stat, ]; c(x$est, x$lower, x$upper) }
  epi_cases[[length(epi_cases) + 1]] <- list(tp = tab[1], fp = tab[2], fn = tab[3], tn = tab[4], method = m,
    level = 0.95, sensitivity = row("se"), specificity = row("sp"), ppv = row("pv.pos"), npv = row("pv.neg"),
    accuracy = row("diag.ac"), prevalence = row("tp"), lr_positive = row("lr.pos"),
    lr_negative = row("lr.neg"), dor = row("diag.or"))
}
out("binary_epir.json", "epiR epi.tests (the first table is the epiR manual's example)", epi_cases,
    note = "epiR's youden interval is (se.lower + sp.lower - 1, ...), not MOVER; not compared")

# --- psych: Cohen's kappa, unweighted and weighted -----------------------------------
kappa_tables <- list(
  matrix(c(40, 5, 4, 171), 2, byrow = TRUE),
  matrix(c(22, 5, 2, 3, 17, 6, 1, 4, 40), 3, byrow = TRUE),
  matrix(c(11, 3, 1, 0, 2, 14, 4, 1, 0, 3, 18, 5, 1, 0, 4, 13), 4, byrow = TRUE)
)
psych_cases <- list()
for (tab in kappa_tables) {
  k <- nrow(tab)
  d <- abs(outer(1:k, 1:k, "-"))
  for (wt in c("linear", "quadratic")) {
    w <- if (wt == "linear") 1 - d / (k - 1) else 1 - d^2 / (k - 1)^2
    ck <- cohen.kappa(tab, w = w)
    psych_cases[[length(psych_cases) + 1]] <- list(table = tab, weights = wt,
      kappa = ck$kappa, se_kappa = sqrt(ck$var.kappa),
      weighted_kappa = ck$weighted.kappa, se_weighted = sqrt(ck$var.weighted))
  }
}
out("kappa_psych.json", "psych cohen.kappa with agreement weights 1-|i-j|/(k-1) or 1-(i-j)^2/(k-1)^2",
    psych_cases)

# --- Fleiss' kappa null SE, by the formula of irr::kappam.fleiss (irr is not in Debian)
fleiss_tables <- list(
  # Wikipedia "Fleiss' kappa" worked example: 10 subjects, 14 raters, 5 categories.
  matrix(c(0, 0, 0, 0, 14, 0, 2, 6, 4, 2, 0, 0, 3, 5, 6, 0, 3, 9, 2, 0, 2, 2, 8, 1, 1,
           7, 7, 0, 0, 0, 3, 2, 6, 3, 0, 2, 5, 3, 2, 2, 6, 5, 2, 1, 0, 0, 2, 2, 3, 7), 10, byrow = TRUE),
  matrix(c(3, 0, 0, 2, 1, 0, 0, 3, 0, 1, 1, 1, 0, 0, 3, 2, 0, 1, 0, 1, 2, 3, 0, 0), 8, byrow = TRUE)
)
fleiss_cases <- list()
for (tab in fleiss_tables) {
  ns <- nrow(tab); nr <- sum(tab[1, ])
  pj <- colSums(tab) / (ns * nr); qj <- 1 - pj
  pbar <- mean((rowSums(tab^2) - nr) / (nr * (nr - 1)))
  kappa <- (pbar - sum(pj^2)) / (1 - sum(pj^2))
  se0 <- sqrt(2 / (sum(pj * qj)^2 * (ns * nr * (nr - 1)))) * sqrt(sum(pj * qj)^2 - sum(pj * qj * (qj - pj)))
  fleiss_cases[[length(fleiss_cases) + 1]] <- list(counts = tab, kappa = kappa, se0 = se0,
    z = kappa / se0, p_value = 2 * pnorm(-abs(kappa / se0)))  # irr: 2*(1-pnorm(|z|)), which underflows
}
out("fleiss_irr_formula.json", "Fleiss kappa and its null SE as irr::kappam.fleiss computes them (formula re-typed in R)",
    fleiss_cases)

# --- pROC power.roc.test: one-sided AUC > 0.5 (Obuchowski 2004 formula, rounded constants)
power_cases <- list()
for (auc in c(0.7, 0.8, 0.9)) for (kappa in c(1, 2.5)) {
  p <- power.roc.test(auc = auc, sig.level = 0.05, power = 0.8, kappa = kappa, alternative = "one.sided")
  power_cases[[length(power_cases) + 1]] <- list(auc0 = 0.5, auc1 = auc, alpha = 0.05, power = 0.8,
    ratio = kappa, ncases = p$ncases, ncontrols = p$ncontrols)
}
out("auc_sample_size_proc.json", "pROC power.roc.test(auc, sig.level = 0.05, power = 0.8, kappa, one.sided)",
    power_cases, note = "pROC rounds the constants (0.0099, 1.414, 0.0792): compare to about 1%")
