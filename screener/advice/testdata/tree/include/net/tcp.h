#ifndef _TCP_H
#define _TCP_H
struct sock;
int tcp_ack(struct sock *sk, struct sk_buff *skb, int flag);
void tcp_data_queue(struct sock *sk, struct sk_buff *skb);
#endif
