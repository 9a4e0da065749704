#!/usr/bin/env Rscript
# Oracle for kizon-stats' method comparison (CLSI EP09c): R's mcr (Roche), the reference
# implementation, for Passing-Bablok (analytical CI, Cusum), Deming and weighted Deming
# (Linnet's jackknife) and OLS (analytical), and their bias at decision points (calcBias);
# Bland-Altman from its published formulas in base R (bias with a t interval, limits with
# qnorm, their CIs by Bland & Altman 1999); Pearson (cor.test), Spearman (cor) and Lin's
# concordance correlation (epiR::epi.ccc, z-transform). Debian: r-cran-epir.
#
# mcr and its dependency robslopes are not in Debian: install them from GitHub's CRAN mirror
# (Debian: r-base-dev r-cran-rcpparmadillo r-cran-jsonlite):
#   git clone https://github.com/cran/robslopes && git clone https://github.com/cran/mcr
#   mkdir -p /tmp/rlib && R CMD INSTALL -l /tmp/rlib robslopes && R CMD INSTALL -l /tmp/rlib mcr
#   R_LIBS=/tmp/rlib Rscript tools/oracle/method_comparison.R
# The data are generated here with a fixed seed; the output is deterministic.
suppressMessages({ library(mcr); library(epiR); library(jsonlite) })
args <- commandArgs(trailingOnly = TRUE)
dir <- if (length(args) > 0) args[1] else "crates/kizon-stats/tests/fixtures"
pkgs <- c("mcr", "robslopes", "epiR", "jsonlite")
versions <- list(r = paste(R.version$major, R.version$minor, sep = "."),
                 packages = setNames(lapply(pkgs, function(p) as.character(packageVersion(p))), pkgs))

set.seed(20261202)
proportional <- function(n, digits) {
  truth <- runif(n, 1, 100)
  x <- round(truth * (1 + rnorm(n, 0, 0.05)), digits)
  y <- round(0.5 + 1.05 * truth * (1 + rnorm(n, 0, 0.05)), digits)
  list(x = x, y = y)
}
constant <- function(n) {
  truth <- runif(n, 20, 60)
  list(x = round(truth + rnorm(n, 0, 2)), y = round(2 + 0.97 * truth + rnorm(n, 0, 2)))
}
negative <- function(n) {
  truth <- runif(n, 5, 50)
  list(x = round(truth + rnorm(n, 0, 1), 1), y = round(60 - truth + rnorm(n, 0, 1), 1))
}
sets <- list(
  list(name = "proportional-60", data = proportional(60, 1)),
  list(name = "integers-40", data = constant(40)),
  list(name = "negative-15", data = negative(15)),
  list(name = "proportional-200", data = proportional(200, 2)),
  # vertical pairs, identical points and slopes of exactly -1
  list(name = "ties-12", data = list(x = c(1, 1, 2, 3, 3, 4, 5, 6, 6, 7, 8, 9),
                                     y = c(1.1, 1.3, 2, 2, 3.2, 3, 5.1, 5.9, 5.9, 7.2, 7.6, 9.3)))
)

decision_points <- c(10, 50, 90)
biases <- function(m) {
  b <- calcBias(m, x.levels = decision_points, alpha = m@alpha)
  lapply(seq_along(decision_points), function(i) {
    ci <- unname(b[i, c("LCI", "UCI")])
    list(level = decision_points[i], bias = unname(b[i, "Bias"]),
         bias_ci = if (all(is.finite(ci))) ci else NULL)
  })
}

coefficients <- function(m) {
  k <- getCoefficients(m)
  finite <- function(v) if (is.finite(v)) v else NULL
  list(slope = k["Slope", "EST"], intercept = k["Intercept", "EST"],
       slope_ci = if (all(is.finite(k["Slope", c("LCI", "UCI")]))) unname(k["Slope", c("LCI", "UCI")]) else NULL,
       intercept_ci = if (all(is.finite(k["Intercept", c("LCI", "UCI")]))) unname(k["Intercept", c("LCI", "UCI")]) else NULL,
       slope_se = finite(k["Slope", "SE"]), intercept_se = finite(k["Intercept", "SE"]))
}

bland_altman <- function(x, y, level) {
  one <- function(d) {
    n <- length(d); bias <- mean(d); s <- sd(d)
    t <- qt(0.5 + level / 2, n - 1); z <- qnorm(0.5 + level / 2)
    loa <- c(bias - z * s, bias + z * s)
    half <- t * s * sqrt(1 / n + z^2 / (2 * (n - 1)))
    list(bias = bias, bias_ci = c(bias - t * s / sqrt(n), bias + t * s / sqrt(n)), sd = s,
         loa = loa, loa_lower_ci = c(loa[1] - half, loa[1] + half),
         loa_upper_ci = c(loa[2] - half, loa[2] + half))
  }
  out <- one(y - x)
  if (all(x + y > 0)) out$relative <- one(100 * (y - x) / ((x + y) / 2))
  out
}

cases <- list()
quiet <- function(expr) {
  result <- NULL
  capture.output(result <- suppressWarnings(expr), type = "output")
  result
}
for (set in sets) {
  x <- set$data$x; y <- set$data$y
  for (level in c(0.95, 0.9)) {
    alpha <- 1 - level
    case <- list(name = set$name, level = level, x = x, y = y)
    pb <- quiet(mcreg(x, y, method.reg = "PaBa", method.ci = "analytical", alpha = alpha))
    case$passing_bablok <- coefficients(pb)
    cu <- calcCUSUM(pb)
    case$passing_bablok$cusum <- list(above = cu$nPos, below = cu$nNeg, max_cusum = cu$max.cusum)
    case$passing_bablok$bias_at <- biases(pb)
    linreg <- quiet(mcreg(x, y, method.reg = "LinReg", method.ci = "analytical", alpha = alpha))
    case$ols <- coefficients(linreg)
    case$ols$bias_at <- biases(linreg)
    dem <- quiet(mcreg(x, y, method.reg = "Deming", method.ci = "jackknife", alpha = alpha))
    case$deming <- coefficients(dem)
    case$deming$bias_at <- biases(dem)
    case$deming_ratio_2 <- coefficients(quiet(mcreg(x, y, error.ratio = 2, method.reg = "Deming",
                                                   method.ci = "jackknife", alpha = alpha)))
    if (min(x, y) >= 0) {
      wd <- quiet(mcreg(x, y, method.reg = "WDeming", method.ci = "jackknife", alpha = alpha))
      case$weighted_deming <- coefficients(wd)
      case$weighted_deming$bias_at <- biases(wd)
    }
    pearson <- cor.test(x, y, conf.level = level)
    ccc <- epi.ccc(x, y, ci = "z-transform", conf.level = level)$rho.c
    case$correlation <- list(
      pearson = list(estimate = unname(pearson$estimate), lower = pearson$conf.int[1],
                     upper = pearson$conf.int[2]),
      spearman = cor(x, y, method = "spearman"),
      ccc = list(estimate = ccc$est, lower = ccc$lower, upper = ccc$upper))
    case$bland_altman <- bland_altman(x, y, level)
    cases[[length(cases) + 1]] <- case
  }
}
doc <- list(source = "R mcr::mcreg (PaBa analytical, LinReg analytical, Deming/WDeming jackknife), mcr::calcCUSUM, mcr::calcBias; Bland-Altman formulas in base R; stats::cor.test, stats::cor(spearman), epiR::epi.ccc",
            versions = versions, cases = cases)
write_json(doc, file.path(dir, "method_comparison_mcr.json"), auto_unbox = TRUE, digits = NA, pretty = TRUE)
cat(sprintf("method_comparison_mcr.json: %d cases\n", length(cases)))
