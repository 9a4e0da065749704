#!/usr/bin/env Rscript
# FROC fixtures for kizon-stats: RJafroc's `dataset04` (Zanca et al., FROC, 5 modalities
# x 4 readers x 200 cases, 100 of them with 1-3 lesions) exported to CSV, so that the
# figures of merit printed for it in Chakraborty's RJafroc FROC book (chapter
# "Empirical operating characteristics", `UtilFigureOfMerit(dataset04, FOM = "AFROC")`
# and `FOM = "wAFROC"`) can be reproduced in tests/froc.rs.
#
# RJafroc's data files are plain R data: base R reads them, RJafroc itself is not needed.
# Run from the workspace root with a checkout of github.com/dpc10ster/RJafroc:
#   Rscript tools/oracle/froc_fixtures.R /path/to/RJafroc
# Writes into crates/kizon-stats/tests/fixtures/:
#   froc_dataset04_ratings.csv  modality, reader, case, lesion, rating: one row per mark,
#                               lesion 0 for a non-lesion localisation (NL), else the
#                               lesion it localised (LL); unmarked lesions have no row
#   froc_dataset04_lesions.csv  case, lesion, weight
# Deterministic: a rerun gives byte-identical files.
args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 1) stop("usage: froc_fixtures.R /path/to/RJafroc")
dir <- "crates/kizon-stats/tests/fixtures"
load(file.path(args[1], "data", "dataset04.RData"))
d <- dataset04
stopifnot(d$descriptions$type == "FROC")
nl <- d$ratings$NL
ll <- d$ratings$LL
modalities <- d$descriptions$modalityID
readers <- d$descriptions$readerID
K <- dim(nl)[3]
K2 <- dim(ll)[3]
K1 <- K - K2
rows <- list()
for (i in seq_along(modalities)) for (j in seq_along(readers)) {
  for (k in 1:K) for (m in seq_len(dim(nl)[4])) {
    if (is.finite(nl[i, j, k, m])) {
      rows[[length(rows) + 1]] <- c(modalities[i], readers[j], k, 0, nl[i, j, k, m])
    }
  }
  for (k in 1:K2) for (l in seq_len(d$lesions$perCase[k])) {
    if (is.finite(ll[i, j, k, l])) {
      rows[[length(rows) + 1]] <- c(modalities[i], readers[j], K1 + k, l, ll[i, j, k, l])
    }
  }
}
ratings <- as.data.frame(do.call(rbind, rows), stringsAsFactors = FALSE)
names(ratings) <- c("modality", "reader", "case", "lesion", "rating")
write.csv(ratings, file.path(dir, "froc_dataset04_ratings.csv"), row.names = FALSE, quote = FALSE)
lesions <- do.call(rbind, lapply(1:K2, function(k) {
  n <- d$lesions$perCase[k]
  data.frame(case = K1 + k, lesion = seq_len(n), weight = d$lesions$weights[k, seq_len(n)])
}))
write.csv(lesions, file.path(dir, "froc_dataset04_lesions.csv"), row.names = FALSE, quote = FALSE)
cat(sprintf("froc_dataset04: %d marks, %d lesions, %d normal and %d abnormal cases\n",
            nrow(ratings), nrow(lesions), K1, K2))
