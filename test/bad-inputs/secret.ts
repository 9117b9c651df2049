/** Planted in every ID and cell of the corpus: no response and no log line may ever contain it. */
export const SECRET = 'Zq7SecretCanary';
