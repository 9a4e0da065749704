#!/usr/bin/env Rscript
# MRMC oracle for kizon-stats: the Obuchowski-Rockette analysis of R's MRMCaov (Smith,
# Hillis & Pesce; the Iowa group's own implementation) on the Van Dyke et al. (1993) data
# and on generated studies, and R's F, t and chi-square distribution functions.
#
# MRMCaov is not in Debian and this project reaches no CRAN mirror, so the package is
# sourced from a checkout of its repository (github.com/brian-j-smith/MRMCaov; the
# fixtures record its DESCRIPTION version and the commit given on the command line). Its
# R files need ggplot2, tibble, mvtnorm and progress: Debian r-cran-ggplot2
# r-cran-tibble r-cran-mvtnorm r-cran-progress (jsonlite comes with r-base-core's
# recommended set on Debian; r-cran-jsonlite otherwise).
#
# Run from the workspace root:
#   Rscript tools/oracle/mrmc_fixtures.R /path/to/MRMCaov COMMIT [/path/to/RJafroc]
# Writes into crates/kizon-stats/tests/fixtures/:
#   van_dyke_1993.csv     the VanDyke data frame of MRMCaov (reader, treatment, case,
#                         truth, rating): 5 readers x 2 modalities x 114 cases
#   mrmc_generated.csv    seeded generated studies (study, reader, modality, case, truth,
#                         score)
#   mrmc_mrmcaov.json     MRMCaov summaries of every study, both covariance methods, all
#                         three factor types
#   distributions_r.json  pf, pt, qt, pchisq
# Deterministic: a rerun gives byte-identical files.
suppressMessages({
  library(ggplot2); library(tibble); library(mvtnorm); library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 2) stop("usage: mrmc_fixtures.R /path/to/MRMCaov COMMIT")
src <- args[1]
commit <- args[2]
dir <- "crates/kizon-stats/tests/fixtures"
for (f in sort(list.files(file.path(src, "R"), full.names = TRUE))) {
  sys.source(f, envir = globalenv())
}
# MRMCaov's jackknife drives a progress bar that stops with an error (a zero tick after
# the bar finished) when no two cases of a reader have identical ratings; it only prints,
# so it is replaced by a silent one.
assignInNamespace("progress_bar", list(new = function(...) {
  list(tick = function(...) invisible(NULL), terminate = function() invisible(NULL))
}), ns = "progress")
load(file.path(src, "data", "VanDyke.RData"))
mrmcaov_version <- read.dcf(file.path(src, "DESCRIPTION"))[1, "Version"]
pkgs <- c("ggplot2", "tibble", "mvtnorm", "progress", "jsonlite")
versions <- list(
  r = paste(R.version$major, R.version$minor, sep = "."),
  mrmcaov = paste0(mrmcaov_version, " (source, commit ", commit, ")"),
  packages = setNames(lapply(pkgs, function(p) as.character(packageVersion(p))), pkgs)
)
out <- function(name, source, cases, ...) {
  doc <- c(list(source = source, versions = versions), list(...), list(cases = cases))
  write_json(doc, file.path(dir, name), auto_unbox = TRUE, digits = NA, pretty = TRUE)
  cat(sprintf("%s: %d cases\n", name, length(cases)))
}

# --- Data ----------------------------------------------------------------------------
van_dyke <- data.frame(
  reader = as.integer(as.character(VanDyke$reader)),
  treatment = as.integer(as.character(VanDyke$treatment)),
  case = as.integer(as.character(VanDyke$case)),
  truth = VanDyke$truth,
  rating = VanDyke$rating
)
write.csv(van_dyke, file.path(dir, "van_dyke_1993.csv"), row.names = FALSE)
# Optionally, with a checkout of RJafroc as third argument: the same ratings are its
# dataset02 ("VAN-DYKE"; NL holds the 69 normal cases, LL the 45 abnormal ones).
if (length(args) >= 3) {
  load(file.path(args[3], "data", "dataset02.RData"))
  for (i in 1:2) for (j in 1:5) {
    v <- van_dyke[van_dyke$treatment == i & van_dyke$reader == j, ]
    v <- v[order(v$case), ]
    stopifnot(all(v$rating[v$truth == 0] == dataset02$ratings$NL[i, j, 1:69, 1]),
              all(v$rating[v$truth == 1] == dataset02$ratings$LL[i, j, , 1]))
  }
  cat("VanDyke equals RJafroc dataset02\n")
}

# A study with a shared case effect (which makes Cov1..Cov3 positive), reader effects and
# modality effects; `case_by_modality` adds a case x modality effect that makes Cov1 and
# Cov2 exceed Cov3. Scores are rounded to `digits` (ties) or cut into 1-5 ratings.
generate <- function(seed, modalities, readers, positives, negatives, shift,
                     reader_sd, case_by_modality, digits = NULL, rating = FALSE) {
  set.seed(seed)
  cases <- positives + negatives
  truth <- c(rep(1L, positives), rep(0L, negatives))
  case_effect <- rnorm(cases)
  reader_effect <- rnorm(readers, sd = reader_sd)
  cm <- matrix(rnorm(cases * modalities, sd = case_by_modality), cases, modalities)
  rows <- list()
  for (i in seq_len(modalities)) for (j in seq_len(readers)) {
    latent <- truth * shift[i] + case_effect + cm[, i] + reader_effect[j] * truth +
      rnorm(cases)
    score <- if (rating) {
      as.integer(cut(latent, c(-Inf, -0.5, 0.3, 1.0, 1.8, Inf)))
    } else {
      round(latent, digits)
    }
    rows[[length(rows) + 1]] <- data.frame(
      reader = j, modality = i, case = seq_len(cases), truth = truth, score = score
    )
  }
  do.call(rbind, rows)
}

# MRMCaov evaluates its `data` and `cov` arguments in the global environment.
analyse <- function(d, cov, factor_types) {
  d$reader <- factor(d$reader)
  d$modality <- factor(d$modality)
  d$case <- factor(d$case)
  study_data <<- d
  cov_fn <<- if (cov == "delong") DeLong else jackknife
  est <- switch(factor_types,
    rrrc = mrmc(empirical_auc(truth, score), modality, reader, case, data = study_data, cov = cov_fn),
    frrc = mrmc(empirical_auc(truth, score), modality, fixed(reader), case, data = study_data,
                cov = cov_fn),
    rrfc = mrmc(empirical_auc(truth, score), modality, reader, fixed(case), data = study_data)
  )
  s <- summary(est)
  means <- s$test_means
  diffs <- s$test_diffs
  eq <- s$test_equality
  res <- list(
    aucs = est$data[[1]],
    modality_means = list(
      estimate = means$Estimate, se = means$StdErr,
      lower = unname(means$CI[, 1]), upper = unname(means$CI[, 2])
    ),
    differences = list(
      estimate = diffs$Estimate, se = diffs$StdErr,
      lower = unname(diffs$CI[, 1]), upper = unname(diffs$CI[, 2]),
      p_value = diffs$`p-value`
    ),
    p_value = eq$`p-value`
  )
  if (!is.null(means$df)) res$modality_means$df <- means$df
  if (!is.null(diffs$df)) res$differences$df <- diffs$df
  if (factor_types == "frrc") {
    res$chi_square <- eq$X2
    res$df1 <- eq$df
    rd <- s$reader_test_diffs
    res$reader_differences <- list(
      estimate = rd$Estimate, se = rd$StdErr, lower = unname(rd$CI[, 1]),
      upper = unname(rd$CI[, 2]), p_value = rd$`p-value`
    )
    rm <- s$reader_means
    res$reader_aucs <- list(se = rm$StdErr, lower = unname(rm$CI[, 1]),
                            upper = unname(rm$CI[, 2]))
  } else {
    res$f <- eq$F
    res$df1 <- eq$df1
    res$df2 <- eq$df2
  }
  if (factor_types != "rrfc") {
    comps <- vcov_comps(est)
    vc <- summary(comps)
    res$components <- list(
      ms_t = unname(comps$MS[["T"]]), ms_r = unname(comps$MS[["R"]]),
      ms_tr = unname(comps$MS[["T:R"]]), var_error = comps$var,
      cov1 = comps$cov[1], cov2 = comps$cov[2], cov3 = comps$cov[3],
      var_r = vc$Estimate[1], var_tr = vc$Estimate[2]
    )
    res$covariance_matrix <- unname(as.vector(unclass(est$cov)))
  }
  res
}

studies <- list(
  list(name = "three_modalities",
       data = generate(11, 3, 4, 25, 35, c(1.0, 1.4, 1.2), 0.3, 0.5, digits = 1),
       note = "3 modalities x 4 readers x 60 cases, scores rounded to 0.1 (ties)"),
  list(name = "continuous_six_readers",
       data = generate(12, 2, 6, 40, 50, c(1.1, 1.3), 0.4, 0.6, digits = 6),
       note = "2 modalities x 6 readers x 90 cases, continuous scores")
)
# Seeds, searched in order, for the traps the warnings are about.
search <- function(condition, ...) {
  for (seed in 1:500) {
    d <- generate(seed, ...)
    study_data <<- transform(d, modality = factor(modality), reader = factor(reader),
                             case = factor(case))
    comps <- summary(vcov_comps(mrmc(
      empirical_auc(truth, score), modality, reader, case, data = study_data)))$Estimate
    if (condition(comps)) return(list(seed = seed, data = d))
  }
  stop("no seed found")
}
# comps: reader, treatment:reader, Error, Cov1, Cov2, Cov3
found <- search(function(c) c[1] < 0, 2, 3, 20, 25, c(1.0, 1.2), 0.0, 0.3, rating = TRUE)
studies[[3]] <- list(name = "negative_reader_variance", data = found$data,
                     note = sprintf("2 x 3 readers x 45 cases, 1-5 ratings, seed %d: reader variance component < 0 (jackknife)", found$seed))
found <- search(function(c) c[5] < c[6], 2, 4, 20, 25, c(1.0, 1.3), 0.3, 0.0, rating = TRUE)
studies[[4]] <- list(name = "cov2_below_cov3", data = found$data,
                     note = sprintf("2 x 4 readers x 45 cases, 1-5 ratings, seed %d: Cov2 < Cov3 (jackknife)", found$seed))

generated <- do.call(rbind, lapply(studies, function(s) cbind(study = s$name, s$data)))
write.csv(generated, file.path(dir, "mrmc_generated.csv"), row.names = FALSE)

cases <- list()
all <- c(list(list(name = "van_dyke_1993",
                   data = transform(van_dyke, modality = treatment, score = rating),
                   note = "Van Dyke et al. (1993), MRMCaov's VanDyke")), studies)
for (s in all) for (cov in c("delong", "jackknife")) for (ft in c("rrrc", "frrc", "rrfc")) {
  if (ft == "rrfc" && cov == "jackknife") next  # fixed cases use no covariance
  cases[[length(cases) + 1]] <- c(
    list(study = s$name, note = s$note, covariance = cov, factor_types = ft),
    analyse(s$data, cov, ft)
  )
}
out("mrmc_mrmcaov.json",
    "MRMCaov mrmc()/summary() with empirical_auc, cov = DeLong or jackknife, readers or cases fixed()",
    cases, level = 0.95)

# --- Distributions ---------------------------------------------------------------------
# (R's pf switches to a chi-square approximation above df2 = 4e5, so df2 stays below.)
dist <- list()
for (a in list(c(4.456319, 1, 15.25967), c(0.3, 1, 4), c(8.704, 1, 4), c(2.5, 2, 9.7),
               c(30, 3, 2.2), c(1e-4, 1, 100), c(200, 1, 15), c(1.7, 5, 3e5))) {
  dist[[length(dist) + 1]] <- list(fn = "f_sf", args = a,
                                   value = pf(a[1], a[2], a[3], lower.tail = FALSE))
}
for (a in list(c(2.11, 15.26), c(-2.11, 15.26), c(0.01, 3), c(5, 1), c(40, 2.5),
               c(1e-8, 12.7), c(3, 1e8))) {
  dist[[length(dist) + 1]] <- list(fn = "student_t_sf", args = a,
                                   value = pt(a[1], a[2], lower.tail = FALSE))
}
for (p in c(1e-10, 0.001, 0.025, 0.05, 0.2, 0.4, 0.49, 0.5, 0.6, 0.975, 0.995)) {
  for (df in c(1, 2.5, 4, 12.74465, 15.25967, 120, 1e7)) {
    dist[[length(dist) + 1]] <- list(fn = "student_t_quantile", args = c(p, df),
                                     value = qt(p, df))
  }
}
for (a in list(c(5.475953, 1), c(0.5, 2), c(30, 3), c(1e-3, 4), c(100, 10))) {
  dist[[length(dist) + 1]] <- list(fn = "chi_square_sf", args = a,
                                   value = pchisq(a[1], a[2], lower.tail = FALSE))
}
for (a in list(c(4.96, 1, 20.3, 8.1), c(2.2, 1, 9, 0.5), c(3.1, 2, 14.7, 12), c(10, 1, 120, 40),
               c(0.5, 3, 6, 3))) {
  dist[[length(dist) + 1]] <- list(fn = "noncentral_f_sf", args = a,
                                   value = pf(a[1], a[2], a[3], ncp = a[4], lower.tail = FALSE))
}
for (a in list(c(3.841459, 1, 7.85), c(1, 1, 0.2), c(20, 3, 15), c(50, 1, 30))) {
  dist[[length(dist) + 1]] <- list(fn = "noncentral_chi_square_sf", args = a,
                                   value = pchisq(a[1], a[2], ncp = a[3], lower.tail = FALSE))
}
for (a in list(c(0.05, 1, 4), c(0.05, 1, 23.1), c(0.01, 2, 9.5), c(0.05, 1, 300))) {
  dist[[length(dist) + 1]] <- list(fn = "f_upper_quantile", args = a,
                                   value = qf(a[1], a[2], a[3], lower.tail = FALSE))
}
out("distributions_r.json", "R stats pf, pt, qt, pchisq, qf (ncp for the noncentral ones)", dist)
