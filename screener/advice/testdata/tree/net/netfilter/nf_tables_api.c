// Stands in for net/netfilter/nf_tables_api.c.
static int nf_tables_newrule(struct sk_buff *skb)
{
	return nft_chain_lookup(skb);
}
